#include "scim/store/audit_log.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "store/bound_sql.h"
#include "store/membership.h"
#include "store/replay_event.h"
#include "store/resource_writer.h"
#include "store/sql_util.h"

namespace scim::store {
namespace {

std::optional<std::string> OptionalText(const soci::row& r, size_t i) {
  if (r.get_indicator(i) != soci::i_ok) return std::nullopt;
  return r.get<std::string>(i);
}

AuditWho WhoOf(const AuditRecord& record) {
  return {record.tenant, record.actor, record.client, record.request_id};
}

}  // namespace

Result<std::vector<AuditEntry>> ReadAuditLog(Database& db, const AuditQuery& query) {
  std::map<std::string, std::string> params;
  std::string sql =
      "SELECT tenant, time, actor, action, resource_type, resource_id, version, seq, client, "
      "request_id, changes FROM audit_log WHERE 1 = 1";
  auto add = [&](const std::optional<std::string>& value, const std::string& clause,
                 const std::string& name) {
    if (!value) return;
    sql += " AND " + clause;
    params[name] = *value;
  };
  add(query.tenant, "tenant = :tenant", "tenant");
  add(query.since, "time >= :since", "since");
  add(query.until, "time < :until", "until");
  add(query.resource_id, "resource_id = :rid", "rid");
  add(query.actor, "actor = :actor", "actor");
  add(query.action, "action = :action", "action");
  if (query.before_seq) sql += " AND seq < " + std::to_string(*query.before_seq);
  sql += query.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  sql += " LIMIT " + std::to_string(std::clamp(query.limit, 1, 1000));
  BoundSql bound(sql, params);
  std::vector<AuditEntry> entries;
  SCIM_RETURN_IF_ERROR(db.WithSession([&](soci::session& s) -> Status {
    entries.clear();
    soci::rowset<soci::row> rows(bound.Prepare(s));
    for (const soci::row& r : rows) {
      AuditEntry e;
      e.tenant = r.get<std::string>(0);
      e.time = r.get<std::string>(1);
      e.actor = r.get<std::string>(2);
      e.action = r.get<std::string>(3);
      e.resource_type = r.get<std::string>(4);
      e.resource_id = r.get<std::string>(5);
      e.version = IntegerAt(r, 6);
      e.seq = IntegerAt(r, 7);
      e.client = OptionalText(r, 8);
      e.request_id = OptionalText(r, 9);
      e.changes = OptionalText(r, 10);
      entries.push_back(std::move(e));
    }
    return OkStatus();
  }));
  return entries;
}

Status RecordAudit(Database& db, const AuditRecord& record) {
  return db.InTransaction([&](soci::session& s) -> Status {
    InsertAuditRow(s, WhoOf(record), record.action, record.resource_type, record.resource_id,
                   record.version, record.changes);
    return OkStatus();
  });
}

Result<ManualSync> RecordManualSync(Database& db, const std::optional<std::string>& tenant,
                                    const std::string& id, const std::optional<std::string>& target,
                                    const AuditRecord& who) {
  ManualSync out;
  SCIM_RETURN_IF_ERROR(db.InTransaction([&](soci::session& s) -> Status {
    std::vector<std::pair<std::string, std::string>> found;  // (tenant, type)
    {
      std::string row_tenant, row_type;
      soci::statement find =
          (s.prepare << "SELECT tenant, resource_type FROM resources WHERE id = :id" +
                            std::string(tenant ? " AND tenant = :t" : "") + " LIMIT 2");
      find.exchange(soci::use(id));
      if (tenant) find.exchange(soci::use(*tenant));
      find.exchange(soci::into(row_tenant));
      find.exchange(soci::into(row_type));
      find.define_and_bind();
      find.execute();
      while (find.fetch()) found.emplace_back(row_tenant, row_type);
    }
    if (found.empty()) return Error(ErrorCode::kNotFound, "resource '" + id + "' not found");
    if (found.size() > 1) {
      return Error(ErrorCode::kConflict,
                   "resource '" + id + "' exists in several tenants; name one with ?tenant=");
    }
    const auto& [row_tenant, row_type] = found.front();
    auto row = ReadRow(s, db.dialect(), row_tenant, row_type, id, true);
    if (!row) return Error(ErrorCode::kNotFound, "resource '" + id + "' not found");
    json::Document resource = AssembleResource(s, row_tenant, row_type, *row, false, false);
    MembershipDelta members;
    members.replaced = true;
    if (row_type == "Group") {
      members.all = LoadMemberRows(s, row_tenant, id);
      members.added = members.all;
    }
    std::string payload =
        OutboxPayload(s, row_tenant, &resource, row_type == "Group" ? &members : nullptr);
    AuditWho audit_who = WhoOf(who);
    audit_who.tenant = row_tenant;
    std::string changes = who.changes;
    if (changes.empty() && target) {
      json::Document doc(rapidjson::kArrayType);
      auto& alloc = doc.GetAllocator();
      json::Value item(rapidjson::kObjectType);
      item.AddMember("attribute", "target", alloc);
      item.AddMember("old", json::Value(), alloc);
      item.AddMember("new", json::String(*target, alloc), alloc);
      doc.PushBack(item, alloc);
      changes = json::Serialize(doc);
    }
    // The audit row first, as RecordChange does (PostgreSQL settle rule of the fan-out).
    InsertAuditRow(s, audit_who, "sync", row_type, id, row->version, changes);
    InsertReplayEvent(s, row_tenant, row_type, id, row->version, payload, target);
    out = ManualSync{row_tenant, row_type, id, row->version};
    return OkStatus();
  }));
  return out;
}

}  // namespace scim::store
