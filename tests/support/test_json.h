#pragma once
// JSON for unit tests: parses text the test author guarantees is valid JSON (with the project's
// own parser, scim::json::Parse), failing the test with the parser's message when it is not.

#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>

#include "scim/common/json.h"

namespace scim::testing {

inline json::Document ParseJson(std::string_view text) {
  json::Document doc;
  Status status = json::Parse(text, doc);
  // Not BOOST_REQUIRE_MESSAGE: its message is built even when the check holds, and error() of an
  // ok Status asserts.
  if (!status.ok()) {
    BOOST_FAIL("bad test JSON: " + status.error().detail + "\n" + std::string(text));
  }
  return doc;
}

}  // namespace scim::testing
