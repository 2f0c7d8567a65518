#pragma once
// Delivery status and operations for the admin API, `/metrics` and `scimd sync status|retry`:
// plain functions over the delivery tables (scim/store/delivery_store.h); they work whether or
// not a Dispatcher runs in this process. Rendering is the caller's (the admin JSON and the
// Prometheus text in src/http/sync_rendering.h, the CLI table in src/app/). Errors are
// scim::Error (database failures converted; soci exceptions never escape).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/result.h"
#include "scim/store/database.h"
#include "scim/store/target_notices.h"

namespace scim::store {

// A configured target, as the caller knows it (name and adapter type).
struct TargetRef {
  std::string name;
  std::string type;
};

// One line of `GET /admin/v1/sync/status`.
struct TargetStatus {
  std::string name;
  std::string type;
  int64_t pending = 0;    // not delivered yet and not failed (includes in_flight)
  int64_t in_flight = 0;  // of those, being delivered right now
  int64_t blocked = 0;    // of those, waiting behind a failed delivery of the same resource
  int64_t delivered = 0;
  int64_t failed = 0;
  // Age of the oldest pending delivery (since it was queued); 0 when nothing is pending.
  double oldest_pending_seconds = 0;
  // The most recent error among deliveries not delivered yet (pending or failed), if any.
  std::optional<std::string> last_error;
  // Standing conditions the target's adapter reported (scim/store/target_notices.h), by topic.
  // Target-wide: the same for every tenant.
  std::vector<TargetNotice> notices;
  // The target's circuit breaker (delivery_store.h, "Paused targets"): paused after target-wide
  // failures, since when (canonical timestamp), why (the last such failure), and when the next
  // probe delivery may go out.
  bool paused = false;
  std::optional<std::string> paused_since;
  std::optional<std::string> pause_reason;
  std::optional<std::string> next_probe_at;
};

// Status of `targets` (in that order, zeros for a target with no deliveries yet) followed by any
// other target found in the database (a target removed from the configuration that still has
// rows; its type is the one recorded when it last ran). With `tenant`, every count and the last
// error cover that tenant's deliveries only (the admin API); without, all tenants (the operator
// and the CLI).
Result<std::vector<TargetStatus>> SyncStatus(Database& db, const std::vector<TargetRef>& targets,
                                             const std::optional<std::string>& tenant = {});

// One line of `GET /admin/v1/sync/deliveries`.
struct DeliveryRow {
  int64_t id = 0;
  int64_t seq = 0;  // the outbox event
  std::string target;
  std::string tenant;
  std::string resource_type;
  std::string resource_id;
  std::string event;   // "created" | "replaced" | "patched" | "deleted"
  std::string status;  // "pending" | "in_flight" | "delivered" | "failed"
  int attempts = 0;
  std::optional<std::string> last_error;
  std::string updated;  // canonical timestamp of the last state change
};

// Deliveries, newest first (by id), filtered by status ("pending", "in_flight", "delivered",
// "failed"), target, tenant and/or resource id when given, at most `limit` (clamped to 1..1000).
// An unknown status is kInvalidValue.
Result<std::vector<DeliveryRow>> ListDeliveries(Database& db,
                                                const std::optional<std::string>& status,
                                                const std::optional<std::string>& target,
                                                int limit = 100,
                                                const std::optional<std::string>& tenant = {},
                                                const std::optional<std::string>& resource_id = {});

// Re-queues one failed delivery: pending, attempts reset to 0, due now (a running dispatcher
// picks it up at its next poll); later changes of its resource that waited behind it follow it
// in order. kNotFound when there is no such delivery (or, with `tenant`, when it belongs to
// another tenant: the same answer, so ids of other tenants cannot be probed), kConflict when it
// is not failed. On success `out_row`, when given, receives the delivery's tenant, target,
// resource type and id (for the audit log).
Status RetryDelivery(Database& db, int64_t id, const std::optional<std::string>& tenant = {},
                     DeliveryRow* out_row = nullptr);

// Re-queues every failed delivery (of `target` only, when given) as RetryDelivery does; returns
// how many.
Result<int64_t> RetryFailed(Database& db, const std::optional<std::string>& target);

// One line of `GET /admin/v1/sync/links?resource=ID`.
struct Link {
  std::string target;
  std::string resource_type;
  std::string resource_id;
  std::string external_id;
  std::string tenant = {};
};

// The target ids linked to a SCIM resource, by target name.
Result<std::vector<Link>> LinksOf(Database& db, const std::string& tenant,
                                  const std::string& resource_id);
// The same across every tenant (the operator without ?tenant=).
Result<std::vector<Link>> LinksOfAnyTenant(Database& db, const std::string& resource_id);

// The numbers behind the delivery part of `GET /metrics`:
//   outbox_depth: outbox events not yet queued for every target, plus events with a delivery
//                 still pending (at any target);
//   per target:   rows by outcome (delivered, failed, pending: `failed` falls when deliveries
//                 are retried) and the age of the oldest pending delivery.
// The targets are `targets` (the configured ones) when given, else every target that ever ran
// (has a cursor), by name; each appears, with zeros when idle. Counting is done in the database
// on every call (index scans proportional to the rows kept per target).
struct TargetMetrics {
  std::string name;
  int64_t delivered = 0;
  int64_t failed = 0;
  int64_t pending = 0;  // in_flight included
  double oldest_pending_seconds = 0;
  bool paused = false;        // the target's circuit breaker is open
  double paused_seconds = 0;  // for how long (0 when not paused)
};
struct DeliveryMetrics {
  int64_t outbox_depth = 0;
  std::vector<TargetMetrics> targets;
};
Result<DeliveryMetrics> DeliveryMetricsOf(Database& db, const std::vector<TargetRef>& targets = {});

}  // namespace scim::store
