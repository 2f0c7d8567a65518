#pragma once
// The database side of delivery: the `deliveries`, `target_cursors` and `target_links` tables
// (migrations/<dialect>/002_delivery.sql). Each method is one short transaction; none is held
// while an adapter talks to its target.
//
// Fan-out. Each target has a cursor row. FanOut() locks it (SELECT ... FOR UPDATE on PostgreSQL;
// BEGIN IMMEDIATE on SQLite), reads the outbox rows after it and inserts a `pending` deliveries
// row for each event the adapter Handles() (INSERT ... ON CONFLICT DO NOTHING, so re-scanning is
// harmless).
//   On SQLite writers serialize, so when the fan-out holds the write lock every allocated seq is
// committed: the cursor is simply the last seq scanned.
//   On PostgreSQL a smaller seq may commit after a larger one, so "the highest seq seen" would
// lose events. Visible rows are fanned out at once (safe for per-resource order: two writes of
// one resource serialize on its row lock, so when the later one is visible the earlier one is
// too), the seqs missing in between are kept in `gaps` and re-read on every fan-out, and the
// cursor `last_seq` (everything at or below is done) only advances to a horizon known to be
// settled: FanOut() records (S = the sequence's last value, then X = pg_current_snapshot()'s
// xmax); once pg_snapshot_xmin() >= X every transaction that could hold a seq <= S has ended,
// so a gap <= S is a rolled-back value and is dropped. This needs every writer to have its xid
// before it takes a seq (else it could take a seq <= S yet get an xid >= X): the PostgreSQL
// migration 002 makes outbox.seq's default scimd_outbox_next_seq(), which assigns the xid first
// (pg_current_xact_id()) and then calls nextval. It also relies on the sequence's default
// CACHE 1.
//
// Claim. A `pending` row is due when next_attempt_at <= now and no earlier row (smaller seq) of
// the same target and resource is pending, in_flight, or failed with blocks_resource = 1.
// Rows held back that way are kept off the due list (so claiming does not rescan them on every
// poll while a target is down): a row queued behind a retrying or failed row gets its
// next_attempt_at (kParkedMs behind a failure), a retry moves the rows behind it to its new
// time, and re-queueing a failure (status.h) makes its parked followers due again.
// Claim() takes the due rows in seq order (FOR UPDATE OF d SKIP LOCKED on PostgreSQL, so
// concurrent claimers take disjoint rows), marks them in_flight with lease_owner/lease_until
// and returns them with their outbox event. At most one row per resource is ever in flight.
//
// Outcome. Record() applies an adapter's outcome in one transaction, only if the row is still
// in flight under this owner (a row whose lease was lost is left to its new owner), and records
// or drops the link whatever the status. attempts counts finished attempts (and expired leases).

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "scim/adapters/target_config.h"
#include "scim/common/result.h"
#include "scim/events/target_adapter.h"
#include "scim/store/database.h"

namespace scim::delivery {

// Milliseconds since the Unix epoch, the unit of next_attempt_at and lease_until.
int64_t NowMs();

// next_attempt_at of a pending row parked behind a failed delivery of its resource that holds
// it back (blocks_resource = 1); re-queueing that delivery makes them due again.
inline constexpr int64_t kParkedMs = 4'000'000'000'000'000'000;

// A delivery claimed by this owner, with its outbox event.
struct ClaimedDelivery {
  int64_t id = 0;
  int attempts = 0;  // attempts before this one
  int requeues = 0;  // times an operator re-queued it after it failed
  events::ChangeEvent event;
};

struct FanOutResult {
  int scanned = 0;    // outbox rows read (new ones and re-read gaps)
  int queued = 0;     // deliveries rows inserted
  bool more = false;  // the batch was full: call again
};

class DeliveryQueue {
 public:
  DeliveryQueue(store::Database& db, std::string owner);

  const std::string& owner() const { return owner_; }

  // Creates the target's cursor row at the start of the outbox when missing; records `type`.
  Status EnsureCursor(const std::string& target, const std::string& type);

  // Cheap read-only check: are there outbox rows past the target's scanned position, or seqs
  // still unsettled (PostgreSQL)?
  Result<bool> FanOutNeeded(const std::string& target);

  // Fans out up to `batch` new outbox rows (plus re-read gaps) for `adapter`'s target.
  Result<FanOutResult> FanOut(const events::TargetAdapter& adapter, int batch);

  // Cheap read-only check: is a pending row of `target` due?
  Result<bool> HasDue(const std::string& target);

  // Claims up to `limit` due rows of `target` for lease_ms.
  Result<std::vector<ClaimedDelivery>> Claim(const std::string& target, int limit,
                                             int64_t lease_ms);

  // The context of a Deliver() call: links of the event's resource and a lookup of this
  // target's links of other resources (each lookup is a query; a failed one gives nullopt). The
  // idempotency key is "<target>:<seq>", plus ":r<N>" after the N-th re-queue.
  Result<events::DeliveryContext> BuildContext(const std::string& target,
                                               const ClaimedDelivery& delivery);

  // Records an outcome: delivered; pending again after RetryDelayMs(policy, attempts+1, ...)
  // (`random01` drives the jitter) or failed with blocks_resource once max_attempts is reached;
  // failed. Returns false (and changes only the link) when the row is no longer in flight under
  // this owner.
  Result<bool> Record(const std::string& target, const ClaimedDelivery& delivery,
                      const events::DeliveryOutcome& outcome, const adapters::RetryPolicy& policy,
                      double random01);

  // Hands claimed rows that were not attempted back (pending, attempts unchanged).
  Status Release(const std::vector<int64_t>& ids);

  // Extends the leases of rows this owner has in flight.
  Status RenewLeases(const std::vector<int64_t>& ids, int64_t lease_ms);

  // Takes back `target`'s in_flight rows whose lease expired (any owner): the lost attempt
  // counts; pending again, or failed (blocking) when it was the last allowed. Returns how many.
  Result<int> ReapExpired(const std::string& target, const adapters::RetryPolicy& policy);

 private:
  store::Database& db_;
  std::string owner_;
};

}  // namespace scim::delivery
