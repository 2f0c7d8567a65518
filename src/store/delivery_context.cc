// DeliveryStore: the DeliveryContext of a Deliver() call (links of the resource, look-ups of
// other resources' links and member roles) and link writes outside an attempt.
#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "scim/common/clock.h"
#include "scim/common/json.h"
#include "scim/store/delivery_store.h"
#include "store/bound_sql.h"
#include "store/cached_sql.h"
#include "store/delivery_sql.h"
#include "store/link_refresh.h"

namespace scim::store {
namespace {

// One round trip: the resource's links at every target, and every known target (a cursor row)
// with a NULL id where it has no link.
void ReadLinks(soci::session& s, Dialect dialect, const std::string& target,
               const events::ChangeEvent& event, events::DeliveryContext& context) {
  CachedRows rows = RunCached(
      s, dialect, "dl_links",
      "SELECT target, external_id FROM target_links WHERE tenant = $1 AND resource_id = $2 "
      "UNION ALL SELECT c.target, NULL FROM target_cursors c WHERE NOT EXISTS (SELECT 1 FROM "
      "target_links l WHERE l.target = c.target AND l.tenant = $1 AND l.resource_id = $2)",
      {event.tenant, event.resource_id});
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string name = rows.at(r, 0).value_or("");
    if (rows.at(r, 1)) {
      context.linked_ids[name] = *rows.at(r, 1);
    } else if (name != target) {
      context.unlinked_targets.insert(name);
    }
  }
}

// The ids of the members a Group event adds (payload "members": {"added": [{"value"}]}): an
// organization delivery asks their links and roles, read up front in one query each instead of
// one per member (500 organizations of 200 members are 100,000 look-ups otherwise).
std::vector<std::string> AddedMembers(const events::ChangeEvent& event) {
  std::vector<std::string> ids;
  if (event.resource_type != "Group") return ids;
  json::Document doc;
  if (!json::Parse(event.payload, doc).ok() || !doc.IsObject()) return ids;
  auto members = doc.FindMember("members");
  if (members == doc.MemberEnd() || !members->value.IsObject()) return ids;
  auto added = members->value.FindMember("added");
  if (added == members->value.MemberEnd() || !added->value.IsArray()) return ids;
  for (const json::Value& m : added->value.GetArray()) {
    if (!m.IsObject()) continue;
    auto value = m.FindMember("value");
    if (value != m.MemberEnd() && value->value.IsString())
      ids.emplace_back(json::View(value->value));
  }
  return ids;
}

// `target`'s links of `ids` in one query per kInListChunk ids: resource id → external id.
std::map<std::string, std::string> LinksOf(soci::session& s, const std::string& target,
                                           const std::string& tenant,
                                           const std::vector<std::string>& ids) {
  std::map<std::string, std::string> links;
  ForEachInListChunk(ids, [&](const std::vector<std::string>& chunk) {
    std::map<std::string, std::string> params{{"t", target}, {"tn", tenant}};
    std::string list = InList(chunk, "r", params);
    BoundSql sql(
        "SELECT resource_id, external_id FROM target_links WHERE target = :t "
        "AND tenant = :tn AND resource_id IN (" +
            list + ")",
        std::move(params));
    std::string id, external_id;
    soci::statement select = (sql.Prepare(s), soci::into(id), soci::into(external_id));
    select.execute();
    while (select.fetch()) links[id] = external_id;
  });
  return links;
}

}  // namespace

Result<events::DeliveryContext> DeliveryStore::LoadContext(const std::string& target,
                                                           const events::ChangeEvent& event) {
  events::DeliveryContext context;
  const Dialect dialect = db_.dialect();
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    ReadLinks(s, dialect, target, event, context);
    return OkStatus();
  }));
  // Prefetched for the members a Group event adds; other ids are looked up one by one.
  auto members = std::make_shared<std::set<std::string>>();
  auto member_links = std::make_shared<std::map<std::string, std::string>>();
  auto member_roles = std::make_shared<std::map<std::string, std::string>>();
  if (std::vector<std::string> added = AddedMembers(event); !added.empty()) {
    SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
      *member_links = LinksOf(s, target, event.tenant, added);
      *member_roles = CurrentMemberRoles(s, event.tenant, added);
      return OkStatus();
    }));
    members->insert(added.begin(), added.end());
  }
  if (auto it = context.linked_ids.find(target); it != context.linked_ids.end()) {
    context.target_id = it->second;
  }
  Database* handle = &db_;
  std::string tenant = event.tenant;
  context.lookup_target_id = [handle, target, tenant, members, member_links](
                                 const std::string& resource_id) -> std::optional<std::string> {
    if (members->contains(resource_id)) {
      auto it = member_links->find(resource_id);
      if (it == member_links->end()) return std::nullopt;
      return it->second;
    }
    std::optional<std::string> found;
    Status lookup = handle->WithSession([&](soci::session& s) -> Status {
      CachedRows rows = RunCached(s, handle->dialect(), "dl_link_of", delivery_sql::kLinkOfSql,
                                  {target, tenant, resource_id});
      if (rows.size() > 0) found = rows.at(0, 0).value_or("");
      return OkStatus();
    });
    if (!lookup.ok()) return std::nullopt;
    return found;
  };
  context.current_member_role = [handle, tenant, members, member_roles](
                                    const std::string& user_id) -> std::optional<std::string> {
    if (members->contains(user_id)) {
      auto it = member_roles->find(user_id);
      if (it == member_roles->end()) return std::nullopt;  // gone
      return it->second;
    }
    return CurrentMemberRole(*handle, tenant, user_id);
  };
  return context;
}

Status DeliveryStore::SaveLink(const std::string& target, const events::ChangeEvent& event,
                               const std::string& target_id) {
  return db_.InTransaction([&](soci::session& s) -> Status {
    RunCached(
        s, db_.dialect(), "dl_link_save", delivery_sql::kSaveLinkSql,
        {target, event.tenant, event.resource_type, event.resource_id, target_id, NowTimestamp()});
    return OkStatus();
  });
}

Status DeliveryStore::DropLink(const std::string& target, const ResourceKey& key) {
  return db_.InTransaction([&](soci::session& s) -> Status {
    RunCached(s, db_.dialect(), "dl_link_drop", delivery_sql::kDropLinkSql,
              {target, key.first, key.second});
    return OkStatus();
  });
}

}  // namespace scim::store
