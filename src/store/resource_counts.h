#pragma once
// Exact resource counts without COUNT(*) (issue 12): totalResults of an unfiltered listing is the
// sum of the (tenant, resource_type) shard rows of `resource_counts` (migration 012), which every
// create and delete adjusts by +1/-1 inside its own transaction. A rolled-back write (or a
// savepoint rolled back inside a /Bulk transaction) rolls its adjustment back with it, so the
// sum equals COUNT(*) at every commit.

#include <soci/soci.h>

#include <cstdint>
#include <string>

#include "scim/store/database.h"

namespace scim::store {

// Adds `delta` to this connection's shard of (tenant, resource_type). PostgreSQL: the shard is
// pg_backend_pid() % 64, so concurrent writers on different connections lock different rows
// (no hot row); SQLite has one writer at a time and uses shard 0.
void AdjustResourceCount(soci::session& s, Dialect dialect, const std::string& tenant,
                         const std::string& resource_type, int delta);

// How many resources of `resource_type` the tenant has: one index range over at most 64 rows.
int64_t CountResources(soci::session& s, const std::string& tenant,
                       const std::string& resource_type);

}  // namespace scim::store
