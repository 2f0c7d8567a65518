#include "delivery/breaker.h"

#include <algorithm>
#include <cmath>

namespace scim::delivery {

int64_t ProbeDelayMs(int64_t backoff_ms, double random01) {
  double r = std::isfinite(random01) ? std::clamp(random01, 0.0, 1.0) : 0.0;
  int64_t backoff = std::max<int64_t>(1, backoff_ms);
  int64_t delay =
      backoff / 2 + static_cast<int64_t>(r * static_cast<double>(backoff - backoff / 2));
  return std::clamp<int64_t>(delay, 1, backoff);
}

OutageVerdict ApplyOutage(store::TargetHealth& health, const BreakerPolicy& policy,
                          const std::string& reason, bool unreachable, bool probe, int64_t now_ms,
                          double random01) {
  OutageVerdict verdict;
  const int64_t initial = std::max<int64_t>(1, policy.probe_initial_ms);
  const int64_t cap = std::max(initial, policy.probe_max_ms);
  if (!health.paused) {
    verdict.spend_attempt = health.consecutive_failures == 0 && !unreachable;
    health.consecutive_failures += 1;
    if (unreachable || health.consecutive_failures >= std::max(1, policy.open_after)) {
      health.paused = true;
      health.paused_since_ms = now_ms;
      health.probe_backoff_ms = initial;
      health.next_probe_at = now_ms + ProbeDelayMs(initial, random01);
      verdict.opened = true;
    }
  } else {
    health.consecutive_failures += 1;
    if (probe) {
      int64_t current = std::max(initial, health.probe_backoff_ms);
      health.probe_backoff_ms = current > cap / 2 ? cap : std::min(cap, current * 2);
      health.next_probe_at = now_ms + ProbeDelayMs(health.probe_backoff_ms, random01);
    }
  }
  health.reason = reason;
  verdict.paused = health.paused;
  return verdict;
}

}  // namespace scim::delivery
