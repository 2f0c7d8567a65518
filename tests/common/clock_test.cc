// scim::NormalizeTimestamp: xsd:dateTime in, the fixed-width canonical UTC form out.

#include "scim/common/clock.h"

#include <boost/test/unit_test.hpp>

namespace scim {
namespace {

BOOST_AUTO_TEST_SUITE(common_clock)

BOOST_AUTO_TEST_CASE(normalizes_to_utc_milliseconds) {
  BOOST_CHECK_EQUAL(NormalizeTimestamp("2010-01-23T04:56:22Z").value_or("-"),
                    "2010-01-23T04:56:22.000Z");
  BOOST_CHECK_EQUAL(NormalizeTimestamp("2020-06-01T12:00:00.123456+02:00").value_or("-"),
                    "2020-06-01T10:00:00.123Z");
  BOOST_CHECK_EQUAL(NormalizeTimestamp("9999-12-31T23:59:59.999Z").value_or("-"),
                    "9999-12-31T23:59:59.999Z");
  BOOST_CHECK_EQUAL(NormalizeTimestamp("0000-01-01T00:00:00Z").value_or("-"),
                    "0000-01-01T00:00:00.000Z");
  BOOST_CHECK(!NormalizeTimestamp("2010-01-23 04:56:22Z"));
  BOOST_CHECK(!NormalizeTimestamp("2010-13-23T04:56:22Z"));
}

// A day the month does not have is not rolled over into the next month.
BOOST_AUTO_TEST_CASE(rejects_days_the_month_does_not_have) {
  BOOST_CHECK(!NormalizeTimestamp("2021-02-31T00:00:00Z"));
  BOOST_CHECK(!NormalizeTimestamp("2021-04-31T00:00:00Z"));
  BOOST_CHECK(!NormalizeTimestamp("2021-02-29T00:00:00Z"));
  BOOST_CHECK_EQUAL(NormalizeTimestamp("2024-02-29T00:00:00Z").value_or("-"),
                    "2024-02-29T00:00:00.000Z");
}

// Found by tests/fuzz/fuzz_resource: an offset that carries the instant past year 9999 or before
// year 0000 gave "10000-01-01T23:58:59.000Z" / "-001-12-31T23:59:00.000Z", which
// NormalizeTimestamp itself rejects and which break the text order of stored timestamps.
BOOST_AUTO_TEST_CASE(rejects_instants_outside_four_digit_years) {
  BOOST_CHECK(!NormalizeTimestamp("9999-12-31T23:59:59-23:59"));
  BOOST_CHECK(!NormalizeTimestamp("9999-12-31T23:59:60Z"));
  BOOST_CHECK(!NormalizeTimestamp("0000-01-01T00:00:00+00:01"));
  BOOST_CHECK_EQUAL(NormalizeTimestamp("0000-01-01T00:01:00+00:01").value_or("-"),
                    "0000-01-01T00:00:00.000Z");
  BOOST_CHECK_EQUAL(NormalizeTimestamp("9999-12-31T22:59:59-01:00").value_or("-"),
                    "9999-12-31T23:59:59.000Z");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim
