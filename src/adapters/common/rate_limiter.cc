#include "adapters/common/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace scim::adapters {

RateLimiter::RateLimiter(int per_minute, std::chrono::milliseconds max_wait)
    : per_minute_(std::max(1, per_minute)),
      burst_(std::max(1, per_minute_ / 10)),
      per_second_(std::max(1.0, per_minute_ - burst_) / 60.0),
      max_wait_(max_wait),
      tokens_(burst_),
      last_(Clock::now()) {}

void RateLimiter::Refill(Clock::time_point now) {
  double elapsed = std::chrono::duration<double>(now - last_).count();
  if (elapsed > 0) {
    tokens_ = std::min(burst_, tokens_ + elapsed * per_second_);
    last_ = now;
  }
}

std::optional<std::chrono::milliseconds> RateLimiter::Reserve(std::chrono::milliseconds* needed) {
  std::lock_guard lock(mutex_);
  Refill(Clock::now());
  tokens_ -= 1;
  std::chrono::milliseconds wait(0);
  if (tokens_ < 0) {
    wait =
        std::chrono::milliseconds(static_cast<int64_t>(std::ceil(-tokens_ / per_second_ * 1000)));
  }
  if (needed != nullptr) *needed = wait;
  if (wait > max_wait_) {
    tokens_ += 1;
    return std::nullopt;
  }
  return wait;
}

bool RateLimiter::Acquire(std::chrono::milliseconds* needed) {
  auto wait = Reserve(needed);
  if (!wait) return false;
  if (wait->count() > 0) std::this_thread::sleep_for(*wait);
  return true;
}

void RateLimiter::Pause(std::chrono::seconds seconds) {
  std::lock_guard lock(mutex_);
  Refill(Clock::now());
  // The bucket refills to one token after `seconds`.
  tokens_ = std::min(tokens_, 1.0 - static_cast<double>(seconds.count()) * per_second_);
}

}  // namespace scim::adapters
