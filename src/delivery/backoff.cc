#include "scim/delivery/backoff.h"

#include <algorithm>
#include <cmath>

namespace scim::delivery {
namespace {

constexpr int64_t kMaxRetryAfterMs = 24LL * 3600 * 1000;

}  // namespace

int64_t BackoffCeilingMs(const RetryPolicy& policy, int attempts) {
  const int64_t initial = std::max<int64_t>(1, policy.initial_backoff_ms);
  const int64_t cap = std::max<int64_t>(initial, policy.max_backoff_ms);
  int64_t ceiling = initial;
  for (int i = 1; i < attempts && ceiling < cap; ++i) {
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  }
  return std::min(ceiling, cap);
}

int64_t RetryDelayMs(const RetryPolicy& policy, int attempts,
                     std::optional<int> retry_after_seconds, double random01) {
  double r = std::isfinite(random01) ? std::clamp(random01, 0.0, 1.0) : 0.0;
  int64_t ceiling = BackoffCeilingMs(policy, attempts);
  int64_t delay = std::max<int64_t>(1, static_cast<int64_t>(r * static_cast<double>(ceiling)));
  delay = std::min(delay, ceiling);
  if (retry_after_seconds && *retry_after_seconds > 0) {
    int64_t after =
        std::min<int64_t>(static_cast<int64_t>(*retry_after_seconds) * 1000, kMaxRetryAfterMs);
    delay = std::max(delay, after);
  }
  return delay;
}

}  // namespace scim::delivery
