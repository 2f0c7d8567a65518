#include "http/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace scim::http {

RateLimiter::RateLimiter(int64_t per_minute)
    : capacity_(static_cast<double>(per_minute)), per_second_(per_minute / 60.0) {}

std::optional<int> RateLimiter::Acquire(const std::string& key) {
  if (capacity_ <= 0) return std::nullopt;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{capacity_, now});
  Bucket& b = it->second;
  std::chrono::duration<double> elapsed = now - b.updated;
  b.tokens = std::min(capacity_, b.tokens + elapsed.count() * per_second_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second_)));
}

}  // namespace scim::http
