#pragma once
// When a delivery that the target asked to retry is attempted again (product.md, `retry`):
// the delay doubles from initial_backoff_ms with each failed attempt up to max_backoff_ms, with
// full jitter (a uniform draw between 0 and that ceiling), and a Retry-After from the target wins
// when it is longer.

#include <cstdint>
#include <optional>

namespace scim::delivery {

// `retry:` of a target (product.md), applied by the delivery engine.
struct RetryPolicy {
  int max_attempts = 10;
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 300000;
};

// The circuit breaker of a target (src/delivery/breaker.h): after `open_after` target-wide
// failures in a row (DeliveryOutcome::target_unavailable; at once when target_unreachable) the
// target is paused and probed with one delivery after probe_initial_ms, the interval doubling
// up to probe_max_ms while probes fail (with jitter: a draw between half and all of it).
struct BreakerPolicy {
  int open_after = 3;
  int64_t probe_initial_ms = 1000;
  int64_t probe_max_ms = 60000;
};

// The ceiling of the delay after `attempts` failed attempts (1 = the first one failed):
// min(max_backoff_ms, initial_backoff_ms * 2^(attempts-1)), never below 1 ms and never
// overflowing. Attempts below 1 count as 1.
int64_t BackoffCeilingMs(const RetryPolicy& policy, int attempts);

// The delay before the next attempt: `random01` (in [0, 1), from the caller's generator) times
// the ceiling above, at least 1 ms; or `retry_after_seconds` * 1000 when that is longer (capped
// at one day, so a hostile header cannot park a delivery forever).
int64_t RetryDelayMs(const RetryPolicy& policy, int attempts,
                     std::optional<int> retry_after_seconds, double random01);

}  // namespace scim::delivery
