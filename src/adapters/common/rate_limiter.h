#pragma once
// Client-side request budget for a target with a per-minute limit (Zoho Books: 100 requests a
// minute per organization; the CRM: 100 a minute per token). A token bucket sized so that no
// 60-second window can exceed the limit: a burst of max(1, limit/10) plus a refill of (limit -
// burst) per minute. Callers reserve a slot; a reservation is a promise to wait until its time, so
// work is delayed, never dropped, and concurrent callers queue in order.

#include <chrono>
#include <mutex>
#include <optional>

namespace scim::adapters {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `per_minute` > 0. A wait longer than `max_wait` is refused instead of reserved.
  RateLimiter(int per_minute, std::chrono::milliseconds max_wait);

  // Reserves the next slot and returns how long to wait for it (zero when one is free now), or
  // nullopt when the wait would exceed max_wait; then nothing is reserved and `*needed` (when
  // given) holds the wait that would have been needed. Thread-safe.
  std::optional<std::chrono::milliseconds> Reserve(std::chrono::milliseconds* needed = nullptr);

  // Reserve() and sleep for the wait. False (without waiting) when the wait is too long.
  bool Acquire(std::chrono::milliseconds* needed = nullptr);

  // The target said "too many requests": no slot before `seconds` from now, for every caller.
  void Pause(std::chrono::seconds seconds);

  int per_minute() const { return per_minute_; }

 private:
  void Refill(Clock::time_point now);

  const int per_minute_;
  const double burst_;
  const double per_second_;
  const std::chrono::milliseconds max_wait_;
  std::mutex mutex_;
  double tokens_;  // negative: slots already promised to waiting callers
  Clock::time_point last_;
};

}  // namespace scim::adapters
