#pragma once
// The delivery engine: moves committed outbox events to every configured target through its
// adapter, reliably, and keeps the link between SCIM ids and the targets' ids.
//
// What it promises (details in src/delivery/delivery_queue.h):
// - Every outbox event a target Handles() gets one `deliveries` row for that target, whatever
//   order concurrent transactions commit in (no "highest seq seen" watermark on PostgreSQL).
// - Changes to one resource reach a target one at a time, in commit (outbox seq) order: a
//   delivery is only started when no earlier delivery of the same resource to the same target is
//   pending or in flight, or failed after exhausting its retries (see "Failures" below).
// - Different resources never wait for each other: a retrying or failed event delays only its
//   own resource.
// - The outcomes of a claimed batch are recorded together, in one transaction, after the
//   batch (a target-wide failure at once, since it may pause the target); the adapter's look-ups
//   of other resources see the links of the batch's earlier outcomes before they are recorded.
// - Batches: an adapter that can deliver several events at once (TargetAdapter::Batchable /
//   MaxBatch / DeliverBatch: the CRM's store bulk import) gets the batchable events of a claim
//   in DeliverBatch() calls of at most MaxBatch() events, delivered before the claim's other
//   events; a claim of claim_batch rows that holds batchable ones claims more, up to
//   MaxBatch() batchable rows, and the non-batchable rows beyond claim_batch are handed back at
//   once for other workers. Each event
//   keeps its own outcome (a record the target refused fails that delivery only); a target-wide
//   failure of one call counts once for the breaker and the call's other events are handed
//   back, attempts unspent.
// - A delivery the adapter reported kDelivered is never started again once its outcome is
//   recorded (a process killed before that, within the batch, leaves it to a lease expiry and
//   the adapter's idempotency). Otherwise delivery is
//   at-least-once: a process killed during Deliver() leaves a lease that expires, and another
//   dispatcher (any process, different owner id) claims the row again; adapters are idempotent
//   per event (DeliveryContext::idempotency_key is "<target>:<seq>" on every attempt, and
//   "<target>:<seq>:r<N>" after the N-th re-queue by an operator: see delivery_queue.h).
// - Several scimd processes may run dispatchers on one PostgreSQL database: rows are claimed with
//   FOR UPDATE SKIP LOCKED and leased to an owner id; each is delivered by one of them at a time.
//   On SQLite, claims run in BEGIN IMMEDIATE transactions (one writer at a time).
//
// Failures: kRetry schedules the next attempt with backoff (scim/delivery/backoff.h); after
// RetryPolicy::max_attempts attempts the row becomes `failed` and keeps later changes of the
// same resource at that target waiting (they stay `pending`, counted as `blocked` in SyncStatus)
// until an operator re-queues it (RetryDelivery / `scimd sync retry`), which then sends every
// change, in order. (Target-wide failures take the breaker's path below instead, so an outage
// alone never gets that far.) kFailed (the target
// refused this data: a poison event) marks the row `failed` without holding anything back: the
// next change of the resource goes out as usual and the poison event fails alone.
//
// Outages: a kRetry the adapter marks target_unavailable (no answer, 5xx) is not the record's
// fault. After BreakerPolicy::open_after of them in a row (one when target_unreachable) the
// target is paused for every process on the database: nothing is claimed for it but one probe
// delivery at a time, with growing intervals, and no delivery spends attempts or fails because
// of it; the first call the target answers resumes delivery in order (src/delivery/breaker.h).
// A worker that sees its target paused hands back the rest of its claimed batch.
//
// Not done: coalescing several pending events of one resource into one Deliver() call (each event
// is its own call); LISTEN/NOTIFY wake-ups across processes (other processes' writes are seen by
// polling, every `poll_interval`).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "scim/common/log.h"
#include "scim/common/result.h"
#include "scim/delivery/backoff.h"
#include "scim/events/target_adapter.h"
#include "scim/store/database.h"

namespace scim::delivery {

// One configured target: its adapter and the `retry:` policy from its configuration block.
struct DispatchTarget {
  std::shared_ptr<events::TargetAdapter> adapter;
  RetryPolicy retry;
};

// The levels of the common log (scim/common/log.h).
using LogLevel = scim::log::Level;

struct DispatcherOptions {
  // Identifies this process in lease_owner; must differ between processes sharing a database
  // (NewOwnerId() gives a suitable one). Empty means NewOwnerId().
  std::string owner_id;
  // How often an idle worker looks for new outbox events and due retries when nobody calls
  // Notify() (writes of other processes, retry times coming due).
  std::chrono::milliseconds poll_interval{100};
  // How long a claimed delivery stays reserved for this process. Leases of deliveries in
  // progress are renewed every third of this; a process that dies lets them expire, and the
  // delivery is then claimed again (counting the lost attempt).
  std::chrono::milliseconds lease_duration{15000};
  // Threads per target: deliveries of different resources run in parallel up to this.
  int workers_per_target = 2;
  // When a target counts as down and how it is probed (scim/delivery/backoff.h).
  BreakerPolicy breaker;
  // Deliveries claimed per claim transaction (per worker; a target whose adapter batches claims
  // up to its MaxBatch() when batchable rows are due), and outbox rows fanned out per fan-out
  // transaction.
  int claim_batch = 8;
  // A backlog: a worker whose claim came back full claims twice as many next time, up to this
  // (a claim that comes back short starts again at claim_batch). Fewer claim and outcome
  // transactions per delivered row while a push drains; every claim still gives each tenant
  // with due rows its share, so another tenant's change waits at most one (longer) pass.
  // At or below claim_batch: fixed claims of claim_batch.
  int backlog_claim_batch = 32;
  int fan_out_batch = 500;
  // Coalescing (TargetAdapter::Coalesces()): a claimed delivery takes up to this many pending
  // deliveries of its resource at the target (itself included) into one call that brings the
  // target to the last one's state (src/delivery/delivery_queue.h). 1: one call per change.
  int coalesce = 32;
  // How long Stop() waits for a Deliver() call in progress before leaving its thread behind.
  std::chrono::milliseconds stop_timeout{10000};
  // Receives the engine's log lines instead of the common log (scim/common/log.h), where they go
  // prefixed "delivery: " when this is unset. Called from worker threads.
  std::function<void(LogLevel, std::string_view)> log;
  // Retention (config `retention:`): delivered outbox events (with their deliveries rows) older
  // than delivered_days and audit rows older than audit_days are deleted by a retention thread
  // (scim/store/retention.h), prune_batch rows per transaction with prune_pause between
  // batches, a new round every prune_interval. 0 days: kept forever; both 0: no thread.
  int64_t delivered_days = 0;
  int64_t audit_days = 0;
  int prune_batch = 500;
  std::chrono::milliseconds prune_pause{200};
  std::chrono::milliseconds prune_interval{std::chrono::minutes(10)};
  // Niceness of the engine's threads (workers, housekeeper, retention; Linux: setpriority per
  // thread, within this process only): above 0 the API threads get the CPU first and delivery
  // happens after. Off by default: measured on a CPU-bound machine (docs/benchmarks.md,
  // api-ratio) at 5 and 10 the engine fell seconds behind, and a niced thread preempted while it
  // held the SQLite writer made API writes wait behind it all the same (a niced thread cannot
  // raise its priority back while it holds the lock). Their SQLite write transactions go after
  // queued API writes whatever this is (store::MarkBackgroundWriter).
  int niceness = 0;
  // After Notify() wakes an idle worker it waits this long before its pass, so one pass fans out
  // and claims the commits of that window together instead of one pass (fan-out, claim and
  // outcome transactions) per commit. Adds at most this to the delivery lag. 0: at once.
  std::chrono::milliseconds wake_delay{15};
};

// A process-unique owner id: "<hostname>:<pid>:<random hex>".
std::string NewOwnerId();

// Runs the delivery loops of all targets. Thread-safe: Notify() may be called from any thread;
// Start()/Stop() from one controlling thread.
class Dispatcher {
 public:
  // `targets` must have distinct, non-empty adapter names (checked by Start()).
  Dispatcher(std::shared_ptr<store::Database> db, std::vector<DispatchTarget> targets,
             DispatcherOptions options = {});
  // Stops the threads (Stop()).
  ~Dispatcher();

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Registers every target's cursor (a new target starts at the beginning of the outbox: it
  // receives the whole retained history) and starts workers_per_target threads per target plus
  // one housekeeping thread (lease renewal, expired-lease reclaim), and the retention thread
  // when retention is configured (even without targets). kInvalidValue for a
  // duplicate or empty target name, kConflict when already started; database errors as Error.
  Status Start();

  // Asks the threads to finish: each completes the Deliver() call it is in and records its
  // outcome, hands back claimed deliveries it has not started, and exits. Waits at most
  // stop_timeout; a thread still inside Deliver() after that is detached (its lease expires and
  // another dispatcher takes the delivery over). Idempotent.
  void Stop();

  // Wakes every idle worker now (call after committing a write): delivery starts without
  // waiting for the next poll.
  void Notify();

  // One synchronous pass in the calling thread for every target: fan out new outbox events,
  // reclaim expired leases, then claim and deliver everything due until nothing is left.
  // Returns how many Deliver() calls were made. For tests and one-shot tools; do not mix with
  // Start().
  Result<int> RunOnce();

  const std::string& owner_id() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<std::atomic<bool>>> done_;
  bool started_ = false;
};

}  // namespace scim::delivery
