#pragma once
// Token buckets shared by every scimd process on one database (the per-token request rate
// limit, limits.rate_limit_per_minute): a budget holds at most `capacity` requests and refills
// at `per_second`. Each process takes slices of it and spends them locally, so the limit holds
// for all processes together rather than once per process, with one short transaction per
// slice instead of one per request. Thread-safe.

#include <cstdint>
#include <memory>
#include <string>

#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store {

// What Take handed out.
struct BudgetGrant {
  double granted = 0;       // requests taken from the shared budget (0: not enough there)
  double wait_seconds = 0;  // when nothing was granted: until `at_least` will be there
};

class RateBudgets {
 public:
  explicit RateBudgets(std::shared_ptr<Database> db);

  // Refills `key`'s budget up to now (a new key starts full), then takes up to `want` requests
  // if at least `at_least` are there (`at_least` is capped at `capacity`, so a request larger
  // than the whole budget is granted once the budget is full and leaves it in debt).
  Result<BudgetGrant> Take(const std::string& key, double capacity, double per_second,
                           double at_least, double want);

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace scim::store
