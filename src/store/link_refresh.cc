#include "store/link_refresh.h"

#include <algorithm>

#include "store/bound_sql.h"
#include "store/cached_sql.h"
#include "store/delivery_sql.h"
#include "store/replay_event.h"
#include "store/resource_writer.h"

namespace scim::store {

bool LinkWillChange(soci::session& s, Dialect dialect, const std::string& target,
                    const std::string& tenant, const std::string& resource_id, bool unlink,
                    const std::string& new_id) {
  if (!unlink && new_id.empty()) return false;
  CachedRows rows =
      RunCached(s, dialect, "dl_link_of", delivery_sql::kLinkOfSql, {target, tenant, resource_id});
  const bool linked = rows.size() > 0;
  if (unlink) return linked;
  return !linked || rows.at(0, 0).value_or("") != new_id;
}

void QueueLinkRefresh(soci::session& s, Dialect dialect, const std::string& changed_target,
                      const std::string& tenant, const std::string& resource_id,
                      const std::vector<std::string>& followers) {
  const bool pg = dialect == Dialect::kPostgres;
  std::vector<std::string> to_refresh;
  for (const std::string& follower : followers) {
    if (follower == changed_target) continue;
    CachedRows waiting =
        RunCached(s, dialect, "dl_waiting_row",
                  std::string(delivery_sql::kWaitingRowSql) + (pg ? " FOR UPDATE" : ""),
                  {follower, tenant, resource_id});
    if (waiting.size() == 0) to_refresh.push_back(follower);
  }
  if (to_refresh.empty()) return;
  auto row = ReadRow(s, dialect, tenant, "User", resource_id, true);
  if (!row) return;  // deleted (or not a User): its delete event reaches the followers
  json::Document resource = AssembleResource(s, tenant, "User", *row, false, false);
  std::string payload = OutboxPayload(s, tenant, &resource, nullptr);
  for (const std::string& follower : to_refresh) {
    InsertReplayEvent(s, tenant, "User", resource_id, row->version, payload, follower);
  }
}

std::optional<std::string> CurrentMemberRole(Database& db, const std::string& tenant,
                                             const std::string& user_id) {
  std::optional<std::string> role;
  Status st = db.WithSession([&](soci::session& s) -> Status {
    std::string data;
    s << "SELECT data FROM resources WHERE tenant = :tn AND id = :id AND resource_type = 'User'",
        soci::use(tenant), soci::use(user_id), soci::into(data);
    if (!s.got_data()) return OkStatus();
    json::Document doc;
    if (!json::Parse(data, doc).ok()) return OkStatus();
    role = MemberRoleOf(doc);
    return OkStatus();
  });
  if (!st.ok()) return std::nullopt;
  return role;
}

std::map<std::string, std::string> CurrentMemberRoles(soci::session& s, const std::string& tenant,
                                                      const std::vector<std::string>& user_ids) {
  std::map<std::string, std::string> roles;
  ForEachInListChunk(user_ids, [&](const std::vector<std::string>& chunk) {
    std::map<std::string, std::string> params{{"tn", tenant}};
    std::string list = InList(chunk, "u", params);
    BoundSql sql(
        "SELECT id, data FROM resources WHERE tenant = :tn AND resource_type = 'User' "
        "AND id IN (" +
            list + ")",
        std::move(params));
    std::string id, data;
    soci::statement select = (sql.Prepare(s), soci::into(id), soci::into(data));
    select.execute();
    while (select.fetch()) {
      json::Document doc;
      if (json::Parse(data, doc).ok()) roles[id] = MemberRoleOf(doc);
    }
  });
  return roles;
}

}  // namespace scim::store
