#pragma once
// The engine's side of one delivery: what to fan out, claim, and what an adapter's outcome means
// for the row. The rows live in store (scim/store/delivery_store.h: the tables, the fan-out's
// settle rule on PostgreSQL, the claim order); DeliveryQueue adds the policy on top:
//
// - Fan-out queues an event for a target when its adapter Handles() it (an adapter that throws
//   gets the event anyway, and Deliver() decides).
// - Record(): kDelivered → delivered. kRetry → pending again after RetryDelayMs(policy,
//   attempts, Retry-After) (scim/delivery/backoff.h), or failed with blocks_resource once
//   policy.max_attempts attempts are used up (later changes of the resource wait for an
//   operator's re-queue); a rate-limited try (DeliveryOutcome::rate_limited) is not an attempt.
//   kFailed → failed without holding anything back (a poison event fails alone). The link is
//   recorded or dropped whatever the status, and so are the outcome's target notices
//   (DeliveryOutcome::notices, before the row). attempts counts finished attempts (and expired
//   leases).
// - A kRetry with target_unavailable (no answer, 5xx: the whole target looks down) goes to the
//   target's circuit breaker (src/delivery/breaker.h) instead: the row is pending again, never
//   failed, and its attempt counts only when the failure is the first of a streak; the breaker
//   pauses the target after BreakerPolicy::open_after such failures in a row and then lets one
//   probe through at a time. Any other outcome means the target answered and closes the
//   breaker (delivery resumes, in seq order).
// - The Idempotency-Key of an attempt (DeliveryContext::idempotency_key) is "<target>:<seq>",
//   the same for every attempt of the row, so a target that has one dedupes retries; after the
//   N-th re-queue by an operator it is "<target>:<seq>:r<N>" (the row may now carry the
//   resource's latest state instead of its own snapshot, and a target must not answer it from
//   the refused attempt it remembers).
// - Coalescing (TargetAdapter::Coalesces(), src/delivery/coalesce.h): Claim() with coalesce > 1
//   claims each row with up to coalesce - 1 rows of its resource behind it and hands the row
//   out with the run's one event (ClaimedDelivery::coalesced keeps the rows). The call's outcome
//   is every row's: delivered together; retried together (the run's rows pending again, due
//   with the first, in seq order); failed together; after the first row gave up, the others
//   wait parked behind it. A target-wide failure counts for the first row only and hands the
//   others back. Every row of the call keeps a note in last_error (CoalescedNote), delivered ones
//   too. A run that creates and deletes a resource before its create was ever attempted is
//   closed at the claim as delivered without a call ("nothing sent").

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "scim/common/result.h"
#include "scim/delivery/backoff.h"
#include "scim/events/target_adapter.h"
#include "scim/store/database.h"
#include "scim/store/delivery_store.h"
#include "scim/store/target_notices.h"

namespace scim::delivery {

using store::ClaimedDelivery;
using store::FanOutResult;
using store::kParkedMs;
using store::NowMs;

// What Record() did.
struct Recorded {
  bool owned = true;     // false: the lease was lost, only the link was changed
  bool paused = false;   // the target is paused after this outcome
  bool opened = false;   // this outcome paused it
  bool resumed = false;  // this outcome ended a pause
};

// The ids of a claimed row and of the rows coalesced with it.
std::vector<int64_t> RowIds(const ClaimedDelivery& delivery);

class DeliveryQueue {
 public:
  DeliveryQueue(store::Database& db, std::string owner, BreakerPolicy breaker = {});

  const std::string& owner() const { return owner_; }

  // The targets whose adapters want link changes (TargetAdapter::WantsLinkChanges): Record()
  // has the store queue them a refresh when an outcome links or unlinks a User elsewhere.
  void SetLinkFollowers(std::vector<std::string> targets) { link_followers_ = std::move(targets); }

  // Creates the target's cursor row at the start of the outbox when missing; records `type`.
  Status EnsureCursor(const std::string& target, const std::string& type);

  // Cheap read-only check: are there outbox rows past the target's scanned position, or seqs
  // still unsettled (PostgreSQL)?
  Result<bool> FanOutNeeded(const std::string& target);

  // Fans out up to `batch` new outbox rows (plus re-read gaps) for `adapter`'s target.
  Result<FanOutResult> FanOut(const events::TargetAdapter& adapter, int batch);

  // Cheap read-only check: is a pending row of `target` due?
  Result<bool> HasDue(const std::string& target);

  // Claims up to `limit` due rows of `target` for lease_ms, each coalesced with up to
  // coalesce - 1 rows of its resource behind it (see above).
  Result<std::vector<ClaimedDelivery>> Claim(const std::string& target, int limit, int64_t lease_ms,
                                             int coalesce = 1);

  // The context of a Deliver() call: links of the event's resource and a lookup of this
  // target's links of other resources (each lookup is a query; a failed one gives nullopt), the
  // idempotency key (see above) and the attempt number.
  Result<events::DeliveryContext> BuildContext(const std::string& target,
                                               const ClaimedDelivery& delivery);

  // Records an outcome as described above (`random01` drives the jitter). Recorded::owned is
  // false (and only the link changed) when the row is no longer in flight under this owner.
  Result<Recorded> Record(const std::string& target, const ClaimedDelivery& delivery,
                          const events::DeliveryOutcome& outcome, const RetryPolicy& policy,
                          double random01);

  // Whether `outcome` goes to the target's breaker (a target-wide failure) rather than only to
  // its row.
  static bool TargetWide(const events::DeliveryOutcome& outcome);

  // One outcome the target answered (not TargetWide), waiting to be recorded.
  struct Answered {
    const ClaimedDelivery* delivery = nullptr;
    events::DeliveryOutcome outcome;
    double random01 = 0;
  };
  // Record() for several such outcomes of a claimed batch, in one transaction (one commit).
  // Element i says what became of outcomes[i]; resumed is set on the first one when the batch
  // ended a pause.
  Result<std::vector<Recorded>> RecordAnswered(const std::string& target,
                                               const std::vector<Answered>& outcomes,
                                               const RetryPolicy& policy);

  // The target's circuit breaker as stored (for logs and tests).
  Result<store::TargetHealth> Health(const std::string& target);

  // Hands claimed rows that were not attempted back (pending, attempts unchanged).
  Status Release(const std::vector<int64_t>& ids);

  // Extends the leases of rows this owner has in flight.
  Status RenewLeases(const std::vector<int64_t>& ids, int64_t lease_ms);

  // Takes back `target`'s in_flight rows whose lease expired (any owner): the lost attempt
  // counts; pending again, or failed (blocking) when it was the last allowed. Returns how many.
  Result<int> ReapExpired(const std::string& target, const RetryPolicy& policy);

 private:
  // Stores the outcome's target notices (DeliveryOutcome::notices), if any.
  Status SaveNotices(const std::string& target, const events::DeliveryOutcome& outcome);

  store::Database& db_;  // target notices (SaveTargetNotices)
  store::DeliveryStore store_;
  std::string owner_;
  std::vector<std::string> link_followers_;
  BreakerPolicy breaker_;
};

}  // namespace scim::delivery
