#pragma once
// The delivery tables, read and written here only: `deliveries`, `target_cursors` and
// `target_links` (migrations/<dialect>/002_delivery.sql and later), and the read side of
// `outbox` (written by ResourceStore in the transaction of each change). The delivery module's
// engine (src/delivery/delivery_queue.h, scim/delivery/dispatcher.h) decides when to fan out and
// claim, and what an adapter's outcome means for a row (retry, give up, fail); the statements
// that do it are these. Status, listings and re-queueing for the admin API and the CLI are in
// scim/store/delivery_status.h. Each method is one short transaction or one session; none is
// held while an adapter talks to its target.
//
// Fan-out. Each target has a cursor row. FanOut() locks it (SELECT ... FOR UPDATE on PostgreSQL;
// BEGIN IMMEDIATE on SQLite), reads the outbox rows after it and inserts a `pending` deliveries
// row for each event `handles` accepts (INSERT ... ON CONFLICT DO NOTHING, so re-scanning is
// harmless).
//   On SQLite writers serialize, so when the fan-out holds the write lock every allocated seq is
// committed: the cursor is simply the last seq scanned.
//   On PostgreSQL a smaller seq may commit after a larger one, so "the highest seq seen" would
// lose events. Visible rows are fanned out at once (safe for per-resource order: two writes of
// one resource serialize on its row lock, so when the later one is visible the earlier one is
// too), the seqs missing in between are kept in `gaps` and re-read on every fan-out, and the
// cursor `last_seq` (everything at or below is done) only advances to a settled horizon. A
// fan-out that leaves seqs open records a horizon (horizon_seq, horizon_xid) = (S, X): S is the
// outbox sequence's last value, read before the fan-out's transaction has an xid, and X is the
// xid it then takes (pg_current_xact_id()). Writers take their xid before they draw a seq (the
// PostgreSQL migration 002 makes outbox.seq's default scimd_outbox_next_seq(), which calls
// pg_current_xact_id() and then nextval), so every transaction that could hold a seq <= S has an
// xid < X. A later fan-out that sees pg_snapshot_xmin(pg_current_snapshot()) >= X knows all of
// them have ended: every seq <= S is committed or never will be, a gap <= S is a rolled-back
// value and is dropped, and last_seq moves up to S (test
// open_writer_with_newest_xid_is_waited_for). pg_snapshot_xmax is not usable as X: it is
// latestCompletedXid + 1, and a running transaction may already hold a larger xid. This relies on
// the sequence's default CACHE 1.
//
// Claim. A `pending` row is due when next_attempt_at <= now and no earlier row (smaller seq) of
// the same target and resource is pending, in_flight, or failed with blocks_resource = 1.
// Rows held back that way are kept off the due list (so claiming does not rescan them on every
// poll while a target is down): a row queued behind a retrying or failed row gets its
// next_attempt_at (kParkedMs behind a failure), a retry moves the rows behind it to its new
// time, and re-queueing a failure (delivery_status.h) makes its parked followers due again.
// Claim() takes the due rows in seq order (FOR UPDATE OF d SKIP LOCKED on PostgreSQL, so
// concurrent claimers take disjoint rows), marks them in_flight with lease_owner/lease_until
// and returns them with their outbox event. With several tenants waiting, each tenant first
// gets up to ceil(limit / tenants) of its oldest due rows (at least one; the starting tenant
// rotates per process), the rest of `limit` the oldest due rows of any tenant: one tenant's
// backlog does not hold back the others' changes (issue 11). At most one row per resource is ever
// in flight, or one run of them claimed together to be coalesced into one call (CoalesceRule). A
// row an operator re-queued (requeues > 0) is claimed with the resource's latest committed state
// when later changes of the resource already reached the target, and is closed as delivered
// ("superseded") when the latest change is a delete.
//
// Paused targets. A target's circuit breaker (table target_health, migration 011) is shared by
// every process on the database. While it is paused, HasDue() says no and Claim() takes nothing
// until next_probe_at; then one claimer (the row is locked: FOR UPDATE on PostgreSQL, BEGIN
// IMMEDIATE on SQLite) takes the oldest due row as the probe (ClaimedDelivery::probe) and moves
// next_probe_at past the probe's lease, so no second probe starts while it runs. The engine
// decides when to open it and how long to wait between probes (UpdateTargetHealth, from
// src/delivery/breaker.h); an outcome the target answered (AttemptRecord::target_answered)
// closes it in RecordAttempt's transaction, and claims resume in seq order.
//
// Outcome. RecordAttempt() writes the engine's verdict in one transaction (RecordAttempts():
// the verdicts of a claimed batch in one transaction), only if the row is
// still in flight under `owner` (a row whose lease was lost is left to its new owner), and
// records or drops the link whatever the status.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scim/common/result.h"
#include "scim/events/change_event.h"
#include "scim/events/target_adapter.h"
#include "scim/store/database.h"

namespace scim::store {

// Milliseconds since the Unix epoch, the unit of next_attempt_at and lease_until.
int64_t NowMs();

// next_attempt_at of a pending row parked behind a failed delivery of its resource that holds
// it back (blocks_resource = 1); re-queueing that delivery makes them due again.
inline constexpr int64_t kParkedMs = 4'000'000'000'000'000'000;

// A delivery claimed by an owner, with its outbox event.
struct ClaimedDelivery {
  int64_t id = 0;
  int attempts = 0;    // attempts before this one
  int requeues = 0;    // times an operator re-queued it after it failed
  bool probe = false;  // claimed as the probe of a paused target
  events::ChangeEvent event;
  // The row's own outbox seq (event.seq, unless the delivery module replaced `event` with the
  // coalesced event of the run, which carries the run's last seq).
  int64_t seq = 0;
  // Pending rows of the same target and resource claimed behind this one to go in the same call
  // (Claim() with a CoalesceRule), in seq order, each with its own event; empty otherwise.
  std::vector<ClaimedDelivery> coalesced;
};

// Coalescing in Claim(): behind each claimed row (never one an operator re-queued) the pending
// rows of its resource at the target that directly follow it are claimed too, in seq order, while
// each is due, not re-queued, not locked by a link refresh deciding about it (PostgreSQL waits for
// that lock) and `extend` accepts its event; the run stops at the first row that is not (a row in
// backoff, failed, or of an unknown kind), so nothing is taken ahead of a row left behind.
struct CoalesceRule {
  int max_rows = 1;  // rows of one resource in a claim, the first included (1: no coalescing)
  // Whether `next` (the following event of the resource) may join `run` (its events so far, in
  // seq order, at least one).
  std::function<bool(const std::vector<const events::ChangeEvent*>& run,
                     const events::ChangeEvent& next)>
      extend;
};

// The circuit breaker of one target (a target_health row; zeros when there is none).
struct TargetHealth {
  bool paused = false;
  int64_t paused_since_ms = 0;   // NowMs() units; when paused
  std::string reason;            // when paused: the last target-wide failure
  int64_t next_probe_at = 0;     // NowMs() units; when paused
  int64_t probe_backoff_ms = 0;  // the current interval between probes
  int consecutive_failures = 0;  // target-wide failures since the target last answered
};

struct FanOutResult {
  int scanned = 0;    // outbox rows read (new ones and re-read gaps)
  int queued = 0;     // deliveries rows inserted
  bool more = false;  // the batch was full: call again
  // Not empty when the cursor's gap list could not be read (PostgreSQL): its text. The fan-out
  // then re-read every seq above last_seq instead (nothing is skipped); worth a warning.
  std::string malformed_gaps;
};

// What becomes of a claimed row after an attempt (the engine decides: DeliveryQueue::Record).
struct AttemptRecord {
  std::string status;                      // "delivered" | "pending" | "failed"
  int attempts = 0;                        // finished attempts, this one included when it counts
  std::optional<int64_t> next_attempt_at;  // pending only (NowMs() units)
  bool blocks_resource = false;      // failed after exhausting retries: later changes wait for it
  std::optional<std::string> error;  // cut to 2,000 bytes
  bool unlink = false;               // drop the resource's link at this target
  std::optional<std::string> target_id;  // else: record this link (when not empty)
  // Targets that carry other targets' ids of a User (TargetAdapter::WantsLinkChanges): when this
  // attempt records a new or changed link of a User, or drops one, each of them (but `target`)
  // gets a delivery of the User's current state (QueueLinkRefresh in store/link_refresh.h).
  std::vector<std::string> link_followers;
  // The target answered (anything but a target-wide failure): ends its streak of target-wide
  // failures and closes its breaker.
  bool target_answered = false;
};

// One claimed row and what becomes of it (DeliveryStore::RecordAttempts).
struct AttemptOf {
  const ClaimedDelivery* delivery = nullptr;
  AttemptRecord attempt;
};

// (tenant, SCIM id)
using ResourceKey = std::pair<std::string, std::string>;

// One target_links row.
struct TargetLink {
  std::string tenant;
  std::string resource_type;
  std::string resource_id;
  std::string target_id;
};

class DeliveryStore {
 public:
  explicit DeliveryStore(Database& db);

  // ---- the engine's queue ----

  // Creates the target's cursor row at the start of the outbox when missing; records `type`.
  Status EnsureCursor(const std::string& target, const std::string& type);

  // Cheap read-only check: are there outbox rows past the target's scanned position, or seqs
  // still unsettled (PostgreSQL)?
  Result<bool> FanOutNeeded(const std::string& target);

  // Fans out up to `batch` new outbox rows (plus re-read gaps) for `target`: a pending row for
  // each event `handles` accepts (a manual sync for another target, outbox.only_target, is
  // passed over; an event of an unknown kind gets a failed row). kNotFound without a cursor.
  Result<FanOutResult> FanOut(const std::string& target,
                              const std::function<bool(const events::ChangeEvent&)>& handles,
                              int batch);

  // Cheap read-only check: is a pending row of `target` due?
  Result<bool> HasDue(const std::string& target);

  // Claims up to `limit` due rows of `target` for `owner`, for lease_ms; with `coalesce`, each
  // with the rows of its resource that follow it (ClaimedDelivery::coalesced, not counted in
  // `limit`; see CoalesceRule).
  Result<std::vector<ClaimedDelivery>> Claim(const std::string& target, const std::string& owner,
                                             int limit, int64_t lease_ms,
                                             const CoalesceRule* coalesce = nullptr);

  // The links of `event`'s resource at every target (target_id set from `target`'s own), the
  // other known targets without a link, and a lookup of `target`'s links of other resources
  // (one query per call; a failed one gives nullopt). For the members a Group event adds, their
  // links and current member roles are read here, in one query each (per 500 members), and the
  // look-ups answer from that. The idempotency key and attempt are left to the caller. The
  // store's database must outlive the returned lookup.
  Result<events::DeliveryContext> LoadContext(const std::string& target,
                                              const events::ChangeEvent& event);

  // Applies `attempt` to the claimed row; later pending rows of the resource are held until its
  // next attempt (pending) or parked (failed with blocks_resource). Returns false (and changes
  // only the link) when the row is no longer in flight under `owner`. With
  // attempt.target_answered, the target's breaker is closed whoever owns the row; `resumed`
  // (when given) tells whether it was paused.
  Result<bool> RecordAttempt(const std::string& target, const std::string& owner,
                             const ClaimedDelivery& delivery, const AttemptRecord& attempt,
                             bool* resumed = nullptr);

  // RecordAttempt() for several claimed rows of `target` in one transaction (one commit for a
  // claimed batch, the row UPDATE prepared once), in the given order; element i of the result says
  // whether row i was still owned. Rows of one resource (a coalesced run) come in seq order.
  Result<std::vector<bool>> RecordAttempts(const std::string& target, const std::string& owner,
                                           const std::vector<AttemptOf>& batch,
                                           bool* resumed = nullptr);

  // Hands claimed rows that were not attempted back (pending, attempts unchanged).
  Status Release(const std::string& owner, const std::vector<int64_t>& ids);

  // Extends the leases of rows `owner` has in flight.
  Status RenewLeases(const std::string& owner, const std::vector<int64_t>& ids, int64_t lease_ms);

  // Takes back `target`'s in_flight rows whose lease expired (any owner): the lost attempt
  // counts; pending again, or failed (blocking) when it was attempt `max_attempts` (at least 1).
  // Returns how many.
  Result<int> ReapExpired(const std::string& target, int max_attempts);

  // ---- the target's circuit breaker (see "Paused targets" above) ----

  // The target's breaker (zeros when it never saw a target-wide failure).
  Result<TargetHealth> ReadTargetHealth(const std::string& target);

  // In one transaction with the target's row locked (created when missing): `change` edits the
  // current state (called again if the transaction is retried), which is written back. Returns
  // the state before and after.
  Result<std::pair<TargetHealth, TargetHealth>> UpdateTargetHealth(
      const std::string& target, const std::function<void(TargetHealth&)>& change);

  // ---- reconciliation (scim/delivery/reconcile.h) ----

  // `target`'s links, by tenant and resource id.
  Result<std::vector<TargetLink>> LinksOfTarget(const std::string& target);
  // Every resource of `type`, by tenant and id.
  Result<std::vector<ResourceKey>> ResourcesOfType(const std::string& type);
  // Resources the dispatcher still owns at `target`: deliveries pending, in flight or failed
  // while holding later changes back, and outbox events not fanned out to the target yet (but
  // not events meant for another target only: a link refresh or a manual sync elsewhere).
  Result<std::set<ResourceKey>> OutstandingResources(const std::string& target);
  // Whether the resource exists (of any type).
  Result<bool> ResourceExists(const ResourceKey& key);
  // The tenant and type of a resource the audit log shows deleted, when `id` is one.
  Result<std::optional<std::pair<std::string, std::string>>> DeletedResource(const std::string& id);
  // Records (or replaces) the link of `event`'s resource at `target`.
  Status SaveLink(const std::string& target, const events::ChangeEvent& event,
                  const std::string& target_id);
  Status DropLink(const std::string& target, const ResourceKey& key);

 private:
  // A transaction of delivery bookkeeping (claims, leases, outcomes, fan-out, target health).
  // Lost to a power failure it is redone (a lease expires, a delivery is sent again and the
  // adapters find what an unrecorded create made, the fan-out re-reads from its cursor), so its
  // commit does not wait for the disk (Database::CommitWait::kReplayable).
  Status InBookkeeping(const std::function<Status(soci::session&)>& work);

  Database& db_;
};

}  // namespace scim::store
