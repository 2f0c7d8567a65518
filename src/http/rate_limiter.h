#pragma once
// Per-token request rate limit (limits.rate_limit_per_minute): a token bucket per caller that
// refills continuously. Over the limit, a request gets 429 with Retry-After. Thread-safe.
//
// Shared mode (a SharedTake is given): the bucket lives in the database (store::RateBudgets)
// and holds for every scimd process on it together. This process takes slices of it (a
// twentieth of the budget, or what a request needs) and spends them locally, so a request
// normally costs no database round trip. When the database cannot be asked, the request is
// let through (it will meet the database's own 503 soon enough).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "scim/store/rate_budgets.h"

namespace scim::http {

// Takes from the shared budget of a key: (key, capacity, per_second, at_least, want).
using SharedTake =
    std::function<Result<store::BudgetGrant>(const std::string&, double, double, double, double)>;

class RateLimiter {
 public:
  // `per_minute` <= 0 disables limiting.
  explicit RateLimiter(int64_t per_minute, SharedTake shared = {});

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
  // Shared mode: spends `cost` from the local slice of `key`, taking a new slice when short.
  // The slice's own mutex, not mutex_, is held while the shared budget is asked, so a database
  // round trip holds back only requests of the same key (which would need that slice anyway).
  std::optional<int> AcquireShared(const std::string& key, double cost);

  // Shared mode: what this process holds of a key's shared budget.
  struct Slice {
    std::mutex mutex;  // guards tokens, held across the SharedTake
    double tokens = 0;
  };

  double capacity_;
  double per_second_;
  SharedTake shared_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
  // Shared mode, under mutex_: one slice per key (a token), never erased, so a reference to one
  // stays valid after mutex_ is released.
  std::map<std::string, Slice> slices_;
  size_t inserts_ = 0;
};

}  // namespace scim::http
