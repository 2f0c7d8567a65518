#include "delivery/delivery_queue.h"

#include <algorithm>

#include "delivery/breaker.h"
#include "delivery/coalesce.h"

namespace scim::delivery {
namespace {

bool SafeHandles(const events::TargetAdapter& adapter, const events::ChangeEvent& event) {
  try {
    return adapter.Handles(event);
  } catch (...) {
    return true;  // let Deliver() decide (and report) rather than drop the event silently
  }
}

}  // namespace

DeliveryQueue::DeliveryQueue(store::Database& db, std::string owner, BreakerPolicy breaker)
    : db_(db), store_(db), owner_(std::move(owner)), breaker_(breaker) {}

Status DeliveryQueue::EnsureCursor(const std::string& target, const std::string& type) {
  return store_.EnsureCursor(target, type);
}

Result<bool> DeliveryQueue::FanOutNeeded(const std::string& target) {
  return store_.FanOutNeeded(target);
}

Result<FanOutResult> DeliveryQueue::FanOut(const events::TargetAdapter& adapter, int batch) {
  return store_.FanOut(
      std::string(adapter.Name()),
      [&adapter](const events::ChangeEvent& event) { return SafeHandles(adapter, event); }, batch);
}

Result<bool> DeliveryQueue::HasDue(const std::string& target) { return store_.HasDue(target); }

std::vector<int64_t> RowIds(const ClaimedDelivery& delivery) {
  std::vector<int64_t> ids = {delivery.id};
  for (const ClaimedDelivery& c : delivery.coalesced) ids.push_back(c.id);
  return ids;
}

Result<std::vector<ClaimedDelivery>> DeliveryQueue::Claim(const std::string& target, int limit,
                                                          int64_t lease_ms, int coalesce) {
  store::CoalesceRule rule;
  rule.max_rows = coalesce;
  rule.extend = CanCoalesce;
  SCIM_TRY(auto claimed,
           store_.Claim(target, owner_, limit, lease_ms, coalesce > 1 ? &rule : nullptr));
  std::vector<ClaimedDelivery> work;
  std::vector<ClaimedDelivery> closed;  // created and deleted before any attempt
  for (ClaimedDelivery& c : claimed) {
    if (c.coalesced.empty()) {
      work.push_back(std::move(c));
    } else if (NothingToSend(c)) {
      closed.push_back(std::move(c));
    } else {
      std::vector<const events::ChangeEvent*> run = {&c.event};
      for (const ClaimedDelivery& f : c.coalesced) run.push_back(&f.event);
      c.event = CoalesceEvents(run);
      work.push_back(std::move(c));
    }
  }
  if (!closed.empty()) {
    std::vector<store::AttemptOf> batch;
    for (const ClaimedDelivery& c : closed) {
      store::AttemptRecord attempt;
      attempt.status = "delivered";
      attempt.error = CoalescedNote(c) + ": created and deleted before delivery; nothing sent";
      batch.push_back({&c, attempt});
      batch.back().attempt.attempts = c.attempts;
      for (const ClaimedDelivery& f : c.coalesced) {
        batch.push_back({&f, attempt});
        batch.back().attempt.attempts = f.attempts;
      }
    }
    if (!store_.RecordAttempts(target, owner_, batch).ok()) {
      // Handed back: a later claim closes them (or delivers them) again.
      std::vector<int64_t> ids;
      for (const ClaimedDelivery& c : closed) {
        for (int64_t id : RowIds(c)) ids.push_back(id);
      }
      (void)store_.Release(owner_, ids);
    }
  }
  return work;
}

Result<events::DeliveryContext> DeliveryQueue::BuildContext(const std::string& target,
                                                            const ClaimedDelivery& delivery) {
  SCIM_TRY(auto context, store_.LoadContext(target, delivery.event));
  context.idempotency_key = target + ":" + std::to_string(delivery.event.seq);
  if (delivery.requeues > 0) context.idempotency_key += ":r" + std::to_string(delivery.requeues);
  int attempts = delivery.attempts;
  for (const ClaimedDelivery& c : delivery.coalesced) attempts = std::max(attempts, c.attempts);
  context.attempt = attempts + 1;
  return context;
}

Result<Recorded> DeliveryQueue::Record(const std::string& target, const ClaimedDelivery& delivery,
                                       const events::DeliveryOutcome& outcome,
                                       const RetryPolicy& policy, double random01) {
  if (TargetWide(outcome)) {
    Recorded recorded;
    store::AttemptRecord attempt;
    const int64_t now_ms = NowMs();
    // The breaker's business (breaker.h): pending again, never failed.
    std::string error = outcome.error.empty() ? "target unavailable" : outcome.error;
    OutageVerdict verdict;
    SCIM_RETURN_IF_ERROR(store_.UpdateTargetHealth(target, [&](store::TargetHealth& h) {
      verdict = ApplyOutage(h, breaker_, error, outcome.target_unreachable, delivery.probe, now_ms,
                            random01);
    }));
    recorded.paused = verdict.paused;
    recorded.opened = verdict.opened;
    attempt.attempts = delivery.attempts + (verdict.spend_attempt ? 1 : 0);
    attempt.status = "pending";
    // An isolated failure backs off as its attempts say; in an outage the breaker decides when
    // the target is called again, and the row is due soon after so the probe finds it.
    attempt.next_attempt_at =
        now_ms + RetryDelayMs(policy, verdict.spend_attempt ? std::max(attempt.attempts, 1) : 1,
                              outcome.retry_after_seconds, random01);
    attempt.error = std::move(error);
    attempt.unlink = outcome.unlink;
    attempt.target_id = outcome.target_id;
    attempt.link_followers = link_followers_;
    SCIM_RETURN_IF_ERROR(SaveNotices(target, outcome));
    SCIM_TRY(auto owned, store_.RecordAttempt(target, owner_, delivery, attempt));
    recorded.owned = owned;
    // The rows coalesced with it go back as they were (pending behind it, attempts unspent).
    if (!delivery.coalesced.empty()) {
      std::vector<int64_t> ids = RowIds(delivery);
      ids.erase(ids.begin());
      SCIM_RETURN_IF_ERROR(store_.Release(owner_, ids));
    }
    return recorded;
  }
  SCIM_TRY(auto all, RecordAnswered(target, {{&delivery, outcome, random01}}, policy));
  return all.front();
}

bool DeliveryQueue::TargetWide(const events::DeliveryOutcome& outcome) {
  return outcome.status == events::DeliveryStatus::kRetry && !outcome.rate_limited &&
         (outcome.target_unavailable || outcome.target_unreachable);
}

namespace {

// What an outcome the target answered means for its row (see delivery_queue.h).
store::AttemptRecord AnsweredAttempt(const ClaimedDelivery& delivery,
                                     const events::DeliveryOutcome& outcome,
                                     const RetryPolicy& policy, double random01, int64_t now_ms) {
  const bool rate_limited =
      outcome.status == events::DeliveryStatus::kRetry && outcome.rate_limited;
  store::AttemptRecord attempt;
  attempt.attempts = delivery.attempts + (rate_limited ? 0 : 1);
  attempt.target_answered = true;
  switch (outcome.status) {
    case events::DeliveryStatus::kDelivered:
      attempt.status = "delivered";
      break;
    case events::DeliveryStatus::kRetry: {
      std::string error = outcome.error.empty() ? "target asked to retry" : outcome.error;
      if (!rate_limited && attempt.attempts >= std::max(1, policy.max_attempts)) {
        attempt.status = "failed";
        attempt.blocks_resource = true;
        error = "gave up after " + std::to_string(attempt.attempts) + " attempts: " + error;
      } else {
        attempt.status = "pending";
        attempt.next_attempt_at = now_ms + RetryDelayMs(policy, std::max(attempt.attempts, 1),
                                                        outcome.retry_after_seconds, random01);
      }
      attempt.error = std::move(error);
      break;
    }
    case events::DeliveryStatus::kFailed:
      attempt.status = "failed";
      attempt.error = outcome.error.empty() ? "refused by the target" : outcome.error;
      break;
  }
  attempt.unlink = outcome.unlink;
  attempt.target_id = outcome.target_id;
  return attempt;
}

// What the outcome of a coalesced call (`head`'s attempt) means for a row coalesced with it
// (see delivery_queue.h): the same verdict, its own attempts; behind a head that gave up it
// waits parked like any row behind a blocking failure.
store::AttemptRecord CoalescedAttempt(const ClaimedDelivery& row, const ClaimedDelivery& head,
                                      const store::AttemptRecord& of_head, bool counted) {
  store::AttemptRecord attempt;
  attempt.attempts = row.attempts + (counted ? 1 : 0);
  attempt.target_answered = of_head.target_answered;
  attempt.status = of_head.status;
  attempt.next_attempt_at = of_head.next_attempt_at;
  attempt.error = of_head.error;
  if (of_head.status == "failed" && of_head.blocks_resource) {
    attempt.status = "pending";
    attempt.next_attempt_at = kParkedMs;
    attempt.error = "waiting behind delivery " + std::to_string(head.id) +
                    ", which gave up: " + of_head.error.value_or("");
  }
  return attempt;
}

}  // namespace

Result<std::vector<Recorded>> DeliveryQueue::RecordAnswered(const std::string& target,
                                                            const std::vector<Answered>& outcomes,
                                                            const RetryPolicy& policy) {
  std::vector<Recorded> recorded(outcomes.size());
  if (outcomes.empty()) return recorded;
  const int64_t now_ms = NowMs();
  std::vector<store::AttemptOf> batch;
  std::vector<size_t> position;  // of outcomes[i]'s own row in batch
  batch.reserve(outcomes.size());
  for (const Answered& a : outcomes) {
    SCIM_RETURN_IF_ERROR(SaveNotices(target, a.outcome));
    const ClaimedDelivery& head = *a.delivery;
    position.push_back(batch.size());
    batch.push_back({&head, AnsweredAttempt(head, a.outcome, policy, a.random01, now_ms)});
    store::AttemptRecord& of_head = batch.back().attempt;
    of_head.link_followers = link_followers_;
    if (head.coalesced.empty()) continue;
    // Every row of a coalesced call says so; the first carries the link.
    const std::string note = CoalescedNote(head);
    of_head.error = of_head.error ? *of_head.error + " (" + note + ")" : note;
    const bool counted = of_head.attempts > head.attempts;
    const store::AttemptRecord shared = of_head;
    for (const ClaimedDelivery& row : head.coalesced) {
      batch.push_back({&row, CoalescedAttempt(row, head, shared, counted)});
    }
  }
  bool resumed = false;
  SCIM_TRY(auto owned, store_.RecordAttempts(target, owner_, batch, &resumed));
  for (size_t i = 0; i < recorded.size(); ++i) recorded[i].owned = owned[position[i]];
  recorded.front().resumed = resumed;
  return recorded;
}

Status DeliveryQueue::SaveNotices(const std::string& target,
                                  const events::DeliveryOutcome& outcome) {
  if (outcome.notices.empty()) return {};  // target-wide, whatever became of the row
  return store::SaveTargetNotices(db_, target, outcome.notices);
}

Result<store::TargetHealth> DeliveryQueue::Health(const std::string& target) {
  return store_.ReadTargetHealth(target);
}

Status DeliveryQueue::Release(const std::vector<int64_t>& ids) {
  return store_.Release(owner_, ids);
}

Status DeliveryQueue::RenewLeases(const std::vector<int64_t>& ids, int64_t lease_ms) {
  return store_.RenewLeases(owner_, ids, lease_ms);
}

Result<int> DeliveryQueue::ReapExpired(const std::string& target, const RetryPolicy& policy) {
  return store_.ReapExpired(target, policy.max_attempts);
}

}  // namespace scim::delivery
