#pragma once
// Per-token request rate limit (limits.rate_limit_per_minute): a token bucket per caller that
// refills continuously. Over the limit, a request gets 429 with Retry-After. Thread-safe.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace scim::http {

class RateLimiter {
 public:
  // `per_minute` <= 0 disables limiting.
  explicit RateLimiter(int64_t per_minute);

  // Takes one request from `key`'s bucket. nullopt when allowed; otherwise the seconds to wait.
  std::optional<int> Acquire(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  double capacity_;
  double per_second_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace scim::http
