#include "store/resource_counts.h"

#include "store/sql_util.h"

namespace scim::store {

void AdjustResourceCount(soci::session& s, Dialect dialect, const std::string& tenant,
                         const std::string& resource_type, int delta) {
  // One statement, one round trip: an upsert (PostgreSQL 9.5+, SQLite 3.24+ syntax).
  const char* shard = dialect == Dialect::kPostgres ? "pg_backend_pid() % 64" : "0";
  s << std::string(
           "INSERT INTO resource_counts (tenant, resource_type, shard, n) VALUES (:t, "
           ":rt, ") +
           shard +
           ", :d) ON CONFLICT (tenant, resource_type, shard) DO UPDATE SET n = "
           "resource_counts.n + excluded.n",
      soci::use(tenant, "t"), soci::use(resource_type, "rt"), soci::use(delta, "d");
}

int64_t CountResources(soci::session& s, const std::string& tenant,
                       const std::string& resource_type) {
  soci::row r;
  s << "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM resource_counts WHERE tenant = :t AND "
       "resource_type = :rt",
      soci::use(tenant, "t"), soci::use(resource_type, "rt"), soci::into(r);
  return IntegerAt(r, 0);
}

}  // namespace scim::store
