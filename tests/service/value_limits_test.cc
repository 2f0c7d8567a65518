// limits.max_values_per_attribute: a multi-valued attribute with more values is invalidValue.

#include "service/value_limits.h"

#include <boost/test/unit_test.hpp>
#include <string>

#include "support/test_json.h"

namespace scim::service {
namespace {

using scim::testing::ParseJson;

// A JSON array of `n` objects {"value":"v<i>"}.
std::string Values(int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i)
    out += (i ? "," : "") + std::string("{\"value\":\"v") + std::to_string(i) + "\"}";
  return out + "]";
}

BOOST_AUTO_TEST_SUITE(values_per_attribute)

BOOST_AUTO_TEST_CASE(at_the_cap_passes_one_more_fails_naming_the_attribute) {
  BOOST_TEST(CheckValuesPerAttribute(ParseJson("{\"emails\":" + Values(3) + "}"), 3).ok());
  Status over = CheckValuesPerAttribute(ParseJson("{\"emails\":" + Values(4) + "}"), 3);
  BOOST_REQUIRE(!over.ok());
  BOOST_TEST((over.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(over.error().detail == "emails: at most 3 values allowed, got 4");
}

BOOST_AUTO_TEST_CASE(extension_attributes_are_counted_and_named) {
  const std::string urn = "urn:scimd:params:scim:schemas:extension:2.0:User";
  Status over = CheckValuesPerAttribute(
      ParseJson("{\"" + urn + "\":{\"externalIds\":" + Values(5) + "}}"), 2);
  BOOST_REQUIRE(!over.ok());
  BOOST_TEST(over.error().detail == urn + ":externalIds: at most 2 values allowed, got 5");
}

BOOST_AUTO_TEST_CASE(arrays_inside_complex_values_are_counted) {
  Status over =
      CheckValuesPerAttribute(ParseJson("{\"addresses\":[{\"lines\":[\"a\",\"b\",\"c\"]}]}"), 2);
  BOOST_REQUIRE(!over.ok());
  BOOST_TEST(over.error().detail == "addresses.lines: at most 2 values allowed, got 3");
}

BOOST_AUTO_TEST_CASE(members_groups_and_schemas_are_exempt) {
  BOOST_TEST(CheckValuesPerAttribute(ParseJson("{\"members\":" + Values(50) + ",\"groups\":" +
                                               Values(50) + ",\"schemas\":[\"a\",\"b\",\"c\"]}"),
                                     2)
                 .ok());
}

BOOST_AUTO_TEST_CASE(zero_means_no_cap) {
  BOOST_TEST(CheckValuesPerAttribute(ParseJson("{\"emails\":" + Values(20) + "}"), 0).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::service
