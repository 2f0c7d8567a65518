#pragma once
// Shared pieces of DeliveryStore's statements (scim/store/delivery_store.h), which are split by
// responsibility: delivery_fan_out.cc (cursors, fan-out and its settle rule),
// delivery_claim.cc (due rows, claims, the probe of a paused target, leases),
// delivery_outcome.cc (RecordAttempts and the target's breaker row), delivery_context.cc (the
// DeliveryContext of a call, links) and delivery_reconcile_queries.cc (reconciliation).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scim/store/database.h"

namespace scim::store::delivery_sql {

// The hot statements of the delivery engine (claims, leases, outcomes, fan-out, contexts) run
// through RunCached (store/cached_sql.h): prepared once per connection on both databases, with
// fixed texts ($1.. placeholders). A profile of the lag bench (docs/benchmarks.md, "Delivery
// engine statements") found SOCI's per-use PREPARE/EXECUTE/DEALLOCATE on PostgreSQL and
// sqlite3Parser on SQLite. Integer parameters go as SqlArg::Int. Lists of ids go as one
// parameter (IdArray) matched by InIds, so that one text serves every list length.

// `ids` as one parameter: a PostgreSQL array literal ("{1,2}"), a JSON array on SQLite ("[1,2]").
std::string IdArray(Dialect dialect, const std::vector<int64_t>& ids);

// The membership test of a column in the IdArray parameter $k: "= ANY($k::bigint[])" on
// PostgreSQL, "IN (SELECT value FROM json_each($k))" on SQLite. Both planners look each id up in
// the column's index (tests/store/delivery_claim_plan_test.cc).
std::string InIds(Dialect dialect, int k);

// A PostgreSQL array literal of `values` for an unnest($k::<type>[]) parameter: each element
// quoted, `"` and `\` escaped with a backslash; nullopt is NULL. (Any element type whose text
// form PostgreSQL reads back: text, bigint, integer.)
std::string PgArray(const std::vector<std::optional<std::string>>& values);

// An integer cell of a cached statement's result (NULL: 0).
long long IntOf(const std::optional<std::string>& cell);

// last_error and the breaker's reason are cut to this many bytes (plus "...").
std::string Truncate(std::string s);

// A pending row is held back while an earlier row of the same target and resource is not done:
// pending, in flight, or failed after exhausting its retries. (The `status <> 'delivered'` term
// matches the partial index deliveries_resource.)
inline constexpr const char* kNoEarlierOpen =
    "NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.target = d.target AND e.tenant = d.tenant "
    "AND e.resource_id = d.resource_id AND e.seq < d.seq AND e.status <> 'delivered' "
    "AND (e.status <> 'failed' OR e.blocks_resource = 1))";

// The due pending rows of target :t (due at :now), oldest first, :n at most: a claim (`lock`:
// PostgreSQL locks them, skipping rows another claimer holds). Written so that both planners
// walk the partial index deliveries_pending (target, seq, next_attempt_at) WHERE status =
// 'pending' in seq order and stop after :n rows, neither sorting the due rows nor reading the
// delivered history (issue 11: 1.87 s per SQLite claim at a 97,000-row backlog, which
// deliveries_due fetched and sorted whole):
// - SQLite (no statistics by default) took deliveries_due (target, status, next_attempt_at) for
//   its range on next_attempt_at; the unary `+` keeps that term out of any index, so the only
//   index left that serves the ORDER BY is deliveries_pending. The term is still checked on the
//   rows the walk reads. (An INDEXED BY hint would fail the statement outright should the index
//   ever be renamed; this shape degrades to a sort at worst.)
// - PostgreSQL, after ANALYZE, costed deliveries_seq (seq) the same as deliveries_pending for
//   `ORDER BY d.seq` (it assumes pending rows spread evenly over seq, while they sit after the
//   whole delivered history) and could walk every delivered row. `d.next_attempt_at` in the
//   ORDER BY changes no result (seq is unique per target) but only deliveries_pending supplies
//   that order without a sort step.
// HasDue runs it with :n = 1 (a NOT EXISTS on target_health in the same query made PostgreSQL
// gather every due row first: it estimated one row for the anti-join).
// tests/store/delivery_claim_plan_test.cc asserts the plans on both databases.
// `of_tenant` adds `AND d.tenant = :tn` (bound after :t): one tenant's share of a fair claim,
// which walks deliveries_tenant_pending (target, tenant, seq, next_attempt_at) the same way.
// Placeholders: $1 target, ($2 tenant,) then now and n.
inline std::string ClaimSql(bool postgres, bool lock, bool of_tenant = false) {
  return std::string(
             "SELECT d.id, d.seq, d.attempts, d.requeues FROM deliveries d "
             "WHERE d.target = $1 AND ") +
         (of_tenant ? "d.tenant = $2 AND " : "") + "d.status = 'pending' AND " +
         (postgres ? "" : "+") + "d.next_attempt_at <= " + (of_tenant ? "$3" : "$2") + " AND " +
         kNoEarlierOpen + " ORDER BY d.seq, d.next_attempt_at LIMIT " + (of_tenant ? "$4" : "$3") +
         (lock ? " FOR UPDATE OF d SKIP LOCKED" : "");
}

// Up to :cap tenants with pending rows at target :t, from the first one after :after on, in
// tenant order ($1 target, $2 after, $3 target again, $4 cap): a loose index scan of
// deliveries_tenant_pending (one index probe per tenant, so a tenant with 100,000 pending rows
// costs what one with 1 does). Same text on both databases. `ORDER BY tenant, seq LIMIT 1` rather
// than MIN(tenant): only deliveries_tenant_pending supplies that order (deliveries_tenant is
// (tenant, id)), and the walk stops at its first entry even where a never-analyzed PostgreSQL table
// made MIN() aggregate the whole index.
inline constexpr const char* kPendingTenantsSql =
    "WITH RECURSIVE tn(tenant) AS (SELECT (SELECT f.tenant FROM deliveries f "
    "WHERE f.target = $1 AND f.status = 'pending' AND f.tenant > $2 "
    "ORDER BY f.tenant, f.seq LIMIT 1) UNION ALL SELECT (SELECT d.tenant FROM deliveries d "
    "WHERE d.target = $3 AND d.status = 'pending' AND d.tenant > tn.tenant "
    "ORDER BY d.tenant, d.seq LIMIT 1) FROM tn WHERE tn.tenant IS NOT NULL) "
    "SELECT tenant FROM tn WHERE tenant IS NOT NULL LIMIT $4";

// The rows of the resource of delivery $1 at its target that come after it and are not
// delivered, in seq order, $2 at most (the candidates a claim coalesces with it; CoalesceRule).
// Walks deliveries_resource (target, tenant, resource_id, seq) WHERE status <> 'delivered'. The
// claim then locks the run it takes from them (kLockRunSql) on PostgreSQL.
inline constexpr const char* kCoalesceCandidatesSql =
    "SELECT f.id, f.seq, f.status, f.next_attempt_at, f.attempts, f.requeues "
    "FROM deliveries h JOIN deliveries f ON f.target = h.target AND f.tenant = h.tenant "
    "AND f.resource_id = h.resource_id AND f.seq > h.seq AND f.status <> 'delivered' "
    "WHERE h.id = $1 ORDER BY f.seq LIMIT $2";

// PostgreSQL: kCoalesceCandidatesSql for every claimed row of the array $1 at once (one round
// trip per claim, not per row), $2 rows at most each: the head's id, then the same columns, in
// head and seq order. Each head's rows walk deliveries_resource as above (LATERAL ... LIMIT).
inline constexpr const char* kCoalesceRunsPgSql =
    "SELECT h.id, f.id, f.seq, f.status, f.next_attempt_at, f.attempts, f.requeues "
    "FROM deliveries h CROSS JOIN LATERAL (SELECT g.id, g.seq, g.status, g.next_attempt_at, "
    "g.attempts, g.requeues FROM deliveries g WHERE g.target = h.target AND g.tenant = h.tenant "
    "AND g.resource_id = h.resource_id AND g.seq > h.seq AND g.status <> 'delivered' "
    "ORDER BY g.seq LIMIT $2) f WHERE h.id = ANY($1::bigint[]) ORDER BY h.id, f.seq";

// PostgreSQL: locks the rows of the runs of a claim (ids: the array $1) that are still pending, in
// seq order, waiting (not skipping) for a row a link refresh holds (store/link_refresh.h: it counts
// on that pending row to read the links after it commits); a row no longer pending ends the run.
// Only the run's rows are locked, never the rows behind it (a re-queue may be updating those).
// Planned per call (RunPlannedPerCall): a generic plan, before ANALYZE, intersected the ids with
// every pending row of deliveries_pending (tests/store/delivery_claim_plan_test.cc).
inline constexpr const char* kLockRunSql =
    "SELECT id FROM deliveries WHERE status = 'pending' AND id = ANY($1::bigint[]) "
    "ORDER BY seq FOR UPDATE";

// Whether target $1 has an in-flight row whose lease ended before $2 (the reaper's look-up,
// delivery_claim.cc). PostgreSQL walks deliveries_in_flight (migration 016) from the oldest lease;
// SQLite deliveries_due.
inline constexpr const char* kAnyExpiredSql =
    "SELECT id FROM deliveries WHERE target = $1 AND status = 'in_flight' AND lease_until < $2 "
    "LIMIT 1";

// PostgreSQL: the outcomes of a claimed batch in one statement (delivery_outcome.cc,
// RecordAttempts), so that the statement-level triggers of delivery_counts (migration 014) run
// once per batch instead of once per row. Arrays: $1 ids, $2 statuses, $3 attempts, $4
// next_attempt_at (NULL elements), $5 last_error (NULL elements), $6 blocks_resource; $7 now,
// $8 the lease owner. Returns the ids this owner still held (the others are left as they are).
inline constexpr const char* kOutcomesPgSql =
    "UPDATE deliveries d SET status = u.status, attempts = u.attempts, "
    "next_attempt_at = u.next_at, last_error = u.error, blocks_resource = u.blocks, "
    "lease_owner = NULL, lease_until = NULL, updated = $7 "
    "FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::bigint[], $5::text[], "
    "$6::smallint[]) AS u(id, status, attempts, next_at, error, blocks) "
    "WHERE d.id = u.id AND d.status = 'in_flight' AND d.lease_owner = $8 RETURNING d.id";

// PostgreSQL: the rows of one fan-out in one statement (delivery_fan_out.cc), in seq order, for
// the same reason (one run of the delivery_counts trigger per fan-out, not per row). Each row is
// due now ($3), or when the earlier open row of its resource that holds it back is ($2,
// kParkedMs, behind a failure); a row of an unknown event kind is 'failed' and never due. The
// rows of one resource within the batch see none of each other (one snapshot), which gives each
// the value it got one statement at a time: a later row's own earlier rows in the batch carry
// the value computed from the same older rows. $1 target, $4 now (text), arrays $5 seq,
// $6 tenant, $7 resource_type, $8 resource_id, $9 status, $10 last_error. Returns the new rows.
inline constexpr const char* kFanOutInsertPgSql =
    "INSERT INTO deliveries (seq, target, tenant, resource_type, resource_id, status, attempts, "
    "next_attempt_at, last_error, blocks_resource, created, updated) "
    "SELECT u.seq, $1, u.tenant, u.resource_type, u.resource_id, u.status, 0, "
    "CASE WHEN u.status = 'failed' THEN NULL ELSE COALESCE((SELECT MAX(CASE WHEN "
    "e.status = 'failed' THEN $2::bigint ELSE e.next_attempt_at END) FROM deliveries e "
    "WHERE e.target = $1 AND e.tenant = u.tenant AND e.resource_id = u.resource_id "
    "AND e.status <> 'delivered' AND (e.status <> 'failed' OR e.blocks_resource = 1)), "
    "$3::bigint) END, u.error, 0, $4, $4 "
    "FROM unnest($5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) "
    "WITH ORDINALITY AS u(seq, tenant, resource_type, resource_id, status, error, o) "
    "ORDER BY u.o ON CONFLICT (target, seq) DO NOTHING RETURNING id";

// "The row is pending", for the statements on one resource's rows (target, tenant and resource_id
// given): status <> 'delivered' AND status NOT IN ('in_flight', 'failed'). Of the four statuses
// that leaves 'pending', but unlike `status = 'pending'` it does not imply the predicate of
// deliveries_pending or deliveries_tenant_pending, so neither planner may walk a tenant's
// pending rows filtering on resource_id: only deliveries_resource (WHERE status <> 'delivered',
// which the first term matches on SQLite too) serves it. A prepared statement's generic plan,
// made while the table was young, walked deliveries_tenant_pending for the link refresh's
// probe (kWaitingRowSql; issue 12, docs/benchmarks.md "PostgreSQL cost per delivery row").
#define SCIM_DELIVERY_PENDING_OF_RESOURCE \
  "status <> 'delivered' AND status NOT IN ('in_flight', 'failed')"

// The first pending row of resource $3 of tenant $2 at target $1 (store/link_refresh.cc; `FOR
// UPDATE` appended on PostgreSQL).
inline constexpr const char* kWaitingRowSql =
    "SELECT id FROM deliveries WHERE target = $1 AND tenant = $2 AND resource_id = $3 "
    "AND " SCIM_DELIVERY_PENDING_OF_RESOURCE " LIMIT 1";

// Holds the pending rows of a resource after seq $5 until $1 (delivery_outcome.cc): $2 target,
// $3 tenant, $4 resource_id, $6 = $1.
inline constexpr const char* kHoldLaterSql =
    "UPDATE deliveries SET next_attempt_at = $1 WHERE target = $2 AND tenant = $3 "
    "AND resource_id = $4 AND seq > $5 AND " SCIM_DELIVERY_PENDING_OF_RESOURCE
    " AND next_attempt_at < $6";

// Records the link of a resource at a target ($1 target, $2 tenant, $3 type, $4 id, $5 its id
// there, $6 now).
inline constexpr const char* kSaveLinkSql =
    "INSERT INTO target_links (target, tenant, resource_type, resource_id, external_id, "
    "updated) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (target, tenant, resource_id) DO UPDATE SET "
    "external_id = excluded.external_id, resource_type = excluded.resource_type, "
    "updated = excluded.updated";

// The link of resource $3 of tenant $2 at target $1: external_id.
inline constexpr const char* kLinkOfSql =
    "SELECT external_id FROM target_links WHERE target = $1 AND tenant = $2 AND resource_id = $3";

// Drops that link.
inline constexpr const char* kDropLinkSql =
    "DELETE FROM target_links WHERE target = $1 AND tenant = $2 AND resource_id = $3";

// "1,2,3": ids for an IN (...) list (integers only, never user input).
std::string IdList(const std::vector<int64_t>& ids);

}  // namespace scim::store::delivery_sql
