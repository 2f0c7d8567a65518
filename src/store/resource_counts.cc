#include "store/resource_counts.h"

#include "store/cached_sql.h"
#include "store/change_buffer.h"
#include "store/sql_util.h"

namespace scim::store {

void AdjustResourceCount(soci::session& s, Dialect dialect, const std::string& tenant,
                         const std::string& resource_type, int delta) {
  if (ChangeBuffer* buffer = ChangeBuffer::For(s)) {
    return buffer->AddCount(tenant, resource_type, delta);  // one upsert at commit
  }
  // One statement, one round trip: an upsert (PostgreSQL 9.5+, SQLite 3.24+ syntax), kept
  // prepared per connection (cached_sql.h).
  const char* shard = dialect == Dialect::kPostgres ? "pg_backend_pid() % 64" : "0";
  std::string d = std::to_string(delta);
  RunCached(s, dialect, "count_adjust",
            std::string("INSERT INTO resource_counts (tenant, resource_type, shard, n) VALUES ($1, "
                        "$2, ") +
                shard +
                ", $3) ON CONFLICT (tenant, resource_type, shard) DO UPDATE SET n = "
                "resource_counts.n + excluded.n",
            {tenant, resource_type, d});
}

int64_t CountResources(soci::session& s, const std::string& tenant,
                       const std::string& resource_type) {
  soci::row r;
  s << "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM resource_counts WHERE tenant = :t AND "
       "resource_type = :rt",
      soci::use(tenant, "t"), soci::use(resource_type, "rt"), soci::into(r);
  int64_t stored = IntegerAt(r, 0);
  // Inside a /Bulk transaction its own creates and deletes are still in its ChangeBuffer.
  if (ChangeBuffer* buffer = ChangeBuffer::For(s)) {
    stored += buffer->PendingCount(tenant, resource_type);
  }
  return stored;
}

}  // namespace scim::store
