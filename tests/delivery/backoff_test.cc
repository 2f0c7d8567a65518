// Retry scheduling: the ceiling doubles up to the maximum, full jitter stays under it, and a
// longer Retry-After wins.
#include "scim/delivery/backoff.h"

#include <boost/test/unit_test.hpp>

namespace scim::delivery {
namespace {

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(ceiling_doubles_up_to_the_maximum) {
  RetryPolicy policy{10, 100, 1000};
  BOOST_TEST(BackoffCeilingMs(policy, 0) == 100);
  BOOST_TEST(BackoffCeilingMs(policy, 1) == 100);
  BOOST_TEST(BackoffCeilingMs(policy, 2) == 200);
  BOOST_TEST(BackoffCeilingMs(policy, 3) == 400);
  BOOST_TEST(BackoffCeilingMs(policy, 4) == 800);
  BOOST_TEST(BackoffCeilingMs(policy, 5) == 1000);
  BOOST_TEST(BackoffCeilingMs(policy, 1000000) == 1000);
}

BOOST_AUTO_TEST_CASE(defaults_match_the_product_brief) {
  RetryPolicy policy;  // {10, 1000, 300000}
  BOOST_TEST(BackoffCeilingMs(policy, 1) == 1000);
  BOOST_TEST(BackoffCeilingMs(policy, 9) == 256000);
  BOOST_TEST(BackoffCeilingMs(policy, 10) == 300000);
}

BOOST_AUTO_TEST_CASE(huge_values_do_not_overflow) {
  RetryPolicy policy{10, int64_t{1} << 61, int64_t{1} << 62};
  BOOST_TEST(BackoffCeilingMs(policy, 100) == (int64_t{1} << 62));
  RetryPolicy odd{10, 0, -5};  // nonsense configuration still gives a positive delay
  BOOST_TEST(BackoffCeilingMs(odd, 3) >= 1);
}

BOOST_AUTO_TEST_CASE(full_jitter_stays_within_the_ceiling) {
  RetryPolicy policy{10, 100, 1000};
  BOOST_TEST(RetryDelayMs(policy, 1, std::nullopt, 0.0) == 1);
  BOOST_TEST(RetryDelayMs(policy, 1, std::nullopt, 0.5) == 50);
  BOOST_TEST(RetryDelayMs(policy, 3, std::nullopt, 0.5) == 200);
  BOOST_TEST(RetryDelayMs(policy, 3, std::nullopt, 0.999999) <= 400);
  BOOST_TEST(RetryDelayMs(policy, 30, std::nullopt, 0.999999) <= 1000);
  BOOST_TEST(RetryDelayMs(policy, 30, std::nullopt, 2.0) == 1000);  // clamped
}

BOOST_AUTO_TEST_CASE(retry_after_wins_when_longer) {
  RetryPolicy policy{10, 100, 1000};
  BOOST_TEST(RetryDelayMs(policy, 1, 5, 0.5) == 5000);  // longer than the backoff
  BOOST_TEST(RetryDelayMs(policy, 30, 0, 0.5) == 500);  // no wait asked
  RetryPolicy slow{10, 60000, 600000};
  BOOST_TEST(RetryDelayMs(slow, 1, 2, 0.5) == 30000);  // shorter than the backoff: ignored
  BOOST_TEST(RetryDelayMs(policy, 1, 10 * 24 * 3600, 0.5) == 24LL * 3600 * 1000);  // capped
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
