#include "http/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace scim::http {

RateLimiter::RateLimiter(int64_t per_minute, SharedTake shared)
    : capacity_(static_cast<double>(per_minute)),
      per_second_(per_minute / 60.0),
      shared_(std::move(shared)) {}

std::map<std::string, RateLimiter::Bucket>::iterator RateLimiter::RefillLocked(
    const std::string& key) {
  auto now = std::chrono::steady_clock::now();
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{capacity_, now});
  if (inserted && ++inserts_ % 4096 == 0) {
    std::erase_if(buckets_, [&](const auto& entry) {
      std::chrono::duration<double> idle = now - entry.second.updated;
      return entry.first != key && entry.second.tokens + idle.count() * per_second_ >= capacity_;
    });
    it = buckets_.find(key);
  }
  Bucket& b = it->second;
  std::chrono::duration<double> elapsed = now - b.updated;
  b.tokens = std::min(capacity_, b.tokens + elapsed.count() * per_second_);
  b.updated = now;
  return it;
}

std::optional<int> RateLimiter::WaitFor(double tokens, double needed) const {
  if (tokens >= needed) return std::nullopt;
  return std::max(1, static_cast<int>(std::ceil((needed - tokens) / per_second_)));
}

std::optional<int> RateLimiter::Acquire(const std::string& key, int64_t cost) {
  if (capacity_ <= 0) return std::nullopt;
  double charged = static_cast<double>(std::max<int64_t>(1, cost));
  if (shared_) return AcquireShared(key, charged);
  std::lock_guard lock(mutex_);
  Bucket& b = RefillLocked(key)->second;
  auto wait = WaitFor(b.tokens, std::min(charged, capacity_));
  if (!wait) b.tokens -= charged;
  return wait;
}

std::optional<int> RateLimiter::AcquireShared(const std::string& key, double cost) {
  Slice* slice;
  {
    std::lock_guard lock(mutex_);
    slice = &slices_.try_emplace(key).first->second;
  }
  std::lock_guard lock(slice->mutex);
  if (slice->tokens >= cost) {
    slice->tokens -= cost;
    return std::nullopt;
  }
  double short_by = cost - std::max(0.0, slice->tokens);
  auto grant = shared_(key, capacity_, per_second_, short_by, std::max(short_by, capacity_ / 20));
  if (!grant.ok()) return std::nullopt;
  if (grant->granted <= 0) {
    return std::max(1, static_cast<int>(std::ceil(grant->wait_seconds)));
  }
  slice->tokens += grant->granted - cost;
  return std::nullopt;
}

std::optional<int> RateLimiter::Peek(const std::string& key) {
  if (capacity_ <= 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  return WaitFor(RefillLocked(key)->second.tokens, 1.0);
}

}  // namespace scim::http
