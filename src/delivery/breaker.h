#pragma once
// What a target-wide failure (events::DeliveryOutcome::target_unavailable) does to the target's
// circuit breaker (store::TargetHealth, shared by every process on the database) and to the
// delivery that met it. A pure function, applied by DeliveryQueue::Record inside
// store::DeliveryStore::UpdateTargetHealth's transaction:
//
// - Closed: the streak of target-wide failures grows; at BreakerPolicy::open_after (or at once
//   when the adapter is sure: target_unreachable) the breaker opens: paused since now, the
//   failure as its reason, a first probe after probe_initial_ms (jittered).
// - Open: a failed probe doubles the probe interval (up to probe_max_ms) and schedules the next
//   one; a failure of a delivery that was in flight when the breaker opened changes only the
//   reason and the count.
// - The delivery's attempt is spent only when the failure is the first of a streak while the
//   breaker is closed (the target answered the call before: it may be this record that makes
//   it fail, and a record that always gets a 500 must still run out of attempts). Every other
//   target-wide failure leaves the attempts alone: an outage of any length fails nothing.
// A call the target answered closes the breaker (store::AttemptRecord::target_answered).

#include <cstdint>
#include <string>

#include "scim/delivery/backoff.h"
#include "scim/store/delivery_store.h"

namespace scim::delivery {

struct OutageVerdict {
  bool spend_attempt = false;  // count this try against the delivery's max_attempts
  bool opened = false;         // this failure paused the target
  bool paused = false;         // the target is paused after it
};

// Applies one target-wide failure to `health` (see above). `probe`: the delivery was claimed as
// the paused target's probe. `random01` in [0, 1) drives the jitter.
OutageVerdict ApplyOutage(store::TargetHealth& health, const BreakerPolicy& policy,
                          const std::string& reason, bool unreachable, bool probe, int64_t now_ms,
                          double random01);

// The jittered wait before the next probe for a probe interval of `backoff_ms`: between half
// of it and all of it, at least 1 ms.
int64_t ProbeDelayMs(int64_t backoff_ms, double random01);

}  // namespace scim::delivery
