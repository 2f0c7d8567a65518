// RateLimiter: a Bulk's cost, the debt of a request larger than the budget, and the shared mode
// (slices of a budget kept elsewhere, here a fake of store::RateBudgets).

#include "http/rate_limiter.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace scim::http {
namespace {

// A shared budget of `tokens` that never refills, counting the calls.
struct FakeBudget {
  double tokens;
  int calls = 0;
  SharedTake Fn() {
    return [this](const std::string&, double capacity, double, double at_least, double want) {
      ++calls;
      store::BudgetGrant grant;
      double needed = std::min(at_least, capacity);
      if (tokens >= needed) {
        grant.granted = std::max(needed, std::min(want, tokens));
        tokens -= grant.granted;
      } else {
        grant.wait_seconds = 7.2;
      }
      return Result<store::BudgetGrant>(grant);
    };
  }
};

BOOST_AUTO_TEST_SUITE(rate_limiter)

BOOST_AUTO_TEST_CASE(a_cost_spends_that_many_requests) {
  RateLimiter limiter(60);
  BOOST_TEST(!limiter.Acquire("t", 59).has_value());
  BOOST_TEST(!limiter.Acquire("t").has_value());
  auto wait = limiter.Acquire("t");
  BOOST_REQUIRE(wait.has_value());
  BOOST_TEST(*wait >= 1);
}

BOOST_AUTO_TEST_CASE(a_cost_above_the_budget_passes_when_full_and_leaves_debt) {
  RateLimiter limiter(60);
  BOOST_TEST(!limiter.Acquire("t", 100).has_value());
  auto wait = limiter.Acquire("t");
  BOOST_REQUIRE(wait.has_value());
  BOOST_TEST(*wait >= 40);  // 40 requests of debt plus one, at 1 a second
}

BOOST_AUTO_TEST_CASE(shared_mode_takes_slices_not_one_call_per_request) {
  FakeBudget budget{100};
  RateLimiter limiter(100, budget.Fn());  // slices of 100 / 20 = 5
  for (int i = 0; i < 100; ++i) BOOST_TEST_REQUIRE(!limiter.Acquire("t").has_value());
  BOOST_TEST(budget.calls == 20);
  auto wait = limiter.Acquire("t");
  BOOST_REQUIRE(wait.has_value());
  BOOST_TEST(*wait == 8);  // the budget's 7.2 s, rounded up
}

BOOST_AUTO_TEST_CASE(shared_mode_takes_what_a_bulk_needs_at_once) {
  FakeBudget budget{100};
  RateLimiter limiter(100, budget.Fn());
  BOOST_TEST(!limiter.Acquire("t", 70).has_value());
  BOOST_TEST(budget.calls == 1);
  BOOST_TEST(budget.tokens == 30.0);
  BOOST_TEST(limiter.Acquire("t", 40).has_value());  // 30 left: refused
}

BOOST_AUTO_TEST_CASE(shared_mode_lets_requests_through_when_the_budget_cannot_be_asked) {
  RateLimiter limiter(10, [](const std::string&, double, double, double, double) {
    return Result<store::BudgetGrant>(Error(ErrorCode::kUnavailable, "database down"));
  });
  for (int i = 0; i < 30; ++i) BOOST_TEST(!limiter.Acquire("t").has_value());
}

// A slice fetch is a database round trip: while one key waits for it, another key's request
// (here one that needs a slice too) goes through. The fake budget holds "slow" until released.
BOOST_AUTO_TEST_CASE(shared_mode_fetch_of_one_key_does_not_block_another_key) {
  std::promise<void> fetching;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  RateLimiter limiter(100, [&](const std::string& key, double, double, double at_least, double) {
    if (key == "slow") {
      fetching.set_value();
      released.wait();
    }
    store::BudgetGrant grant;
    grant.granted = at_least;
    return Result<store::BudgetGrant>(grant);
  });
  std::optional<int> slow_wait = 0;
  std::thread slow([&] { slow_wait = limiter.Acquire("slow"); });
  fetching.get_future().wait();  // "slow" is inside its fetch now
  auto other = std::async(std::launch::async, [&] { return limiter.Acquire("other"); });
  // A watchdog, not a timing assertion: with the limiter locked during the fetch, "other" never
  // returns before the release below.
  const bool other_returned = other.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  release.set_value();
  slow.join();
  BOOST_TEST(other_returned);
  BOOST_TEST(!other.get().has_value());
  BOOST_TEST(!slow_wait.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
