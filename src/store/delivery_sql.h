#pragma once
// Shared pieces of DeliveryStore's statements (scim/store/delivery_store.h), which are split by
// responsibility: delivery_fan_out.cc (cursors, fan-out and its settle rule),
// delivery_claim.cc (due rows, claims, the probe of a paused target, leases),
// delivery_outcome.cc (RecordAttempts and the target's breaker row), delivery_context.cc (the
// DeliveryContext of a call, links) and delivery_reconcile_queries.cc (reconciliation).

#include <cstdint>
#include <string>
#include <vector>

namespace scim::store::delivery_sql {

// last_error and the breaker's reason are cut to this many bytes (plus "...").
std::string Truncate(std::string s);

// A pending row is held back while an earlier row of the same target and resource is not done:
// pending, in flight, or failed after exhausting its retries. (The `status <> 'delivered'` term
// matches the partial index deliveries_resource.)
inline constexpr const char* kNoEarlierOpen =
    "NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.target = d.target AND e.tenant = d.tenant "
    "AND e.resource_id = d.resource_id AND e.seq < d.seq AND e.status <> 'delivered' "
    "AND (e.status <> 'failed' OR e.blocks_resource = 1))";

// "1,2,3": ids for an IN (...) list (integers only, never user input).
std::string IdList(const std::vector<int64_t>& ids);

}  // namespace scim::store::delivery_sql
