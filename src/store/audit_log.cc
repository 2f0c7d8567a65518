#include "scim/store/audit_log.h"

#include <map>

#include "store/bound_sql.h"

namespace scim::store {

Result<std::vector<AuditEntry>> ReadAuditLog(Database& db, const AuditQuery& query) {
  std::map<std::string, std::string> params{{"tenant", query.tenant}};
  std::string sql =
      "SELECT time, actor, action, resource_type, resource_id, version FROM audit_log "
      "WHERE tenant = :tenant";
  if (query.since) {
    sql += " AND time >= :since";
    params["since"] = *query.since;
  }
  if (query.resource_id) {
    sql += " AND resource_id = :rid";
    params["rid"] = *query.resource_id;
  }
  sql += " ORDER BY seq LIMIT " + std::to_string(query.limit);
  BoundSql bound(sql, params);
  std::vector<AuditEntry> entries;
  Status status = db.WithSession([&](soci::session& s) -> Status {
    soci::rowset<soci::row> rows(bound.Prepare(s));
    for (const soci::row& r : rows) {
      AuditEntry e{r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2),
                   r.get<std::string>(3), r.get<std::string>(4), 0};
      const auto type = r.get_properties(5).get_data_type();
      e.version = type == soci::dt_integer ? r.get<int>(5) : r.get<long long>(5);
      entries.push_back(std::move(e));
    }
    return OkStatus();
  });
  if (!status.ok()) return status.error();
  return entries;
}

}  // namespace scim::store
