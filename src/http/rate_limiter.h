#pragma once
// Per-token request rate limit (limits.rate_limit_per_minute): a token bucket per caller that
// refills continuously. Over the limit, a request gets 429 with Retry-After. Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace scim::http {

class RateLimiter {
 public:
  // `per_minute` <= 0 disables limiting.
  explicit RateLimiter(int64_t per_minute);

  // Takes `cost` requests (a /Bulk counts its operations) from `key`'s bucket. nullopt when
  // allowed; otherwise the seconds until the bucket holds them (Retry-After). A cost above the
  // whole per-minute budget is allowed once the bucket is full and leaves it in debt, so such a
  // request is possible at all and the rate over time still holds.
  std::optional<int> Acquire(const std::string& key, int64_t cost = 1);

  // Like Acquire, but takes nothing: nullopt while `key` has at least one request left.
  std::optional<int> Peek(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  // Refills `key`'s bucket up to now; mutex_ held. Every 4096 new keys, buckets that are full
  // again are dropped (a full bucket is what a new key gets), so the map stays bounded by the
  // keys active within a minute.
  std::map<std::string, Bucket>::iterator RefillLocked(const std::string& key);
  // Seconds until a bucket with `tokens` holds `needed`; nullopt when it does now.
  std::optional<int> WaitFor(double tokens, double needed) const;

  double capacity_;
  double per_second_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
  size_t inserts_ = 0;
};

}  // namespace scim::http
