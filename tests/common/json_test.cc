// scim::json::Parse: what it refuses (RFC 8259 syntax, RFC 3629 UTF-8, NUL, depth) and how.

#include "scim/common/json.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace scim::json {
namespace {

std::string CodeOf(const std::string& text) {
  Document doc;
  Status status = Parse(text, doc);
  return status.ok() ? "ok" : ErrorCodeName(status.error().code);
}

BOOST_AUTO_TEST_SUITE(common_json)

BOOST_AUTO_TEST_CASE(escaped_surrogates_must_pair) {
  Document doc;
  BOOST_TEST_REQUIRE(Parse(R"({"v":"a\ud83d\ude00b"})", doc).ok());
  BOOST_TEST(std::string(View(doc["v"])) ==
             "a\xF0\x9F\x98\x80"
             "b");
  // A lone low surrogate decoded to the bytes ED BF BF, which are not UTF-8 (found by fuzzing).
  BOOST_TEST(CodeOf(R"({"v":"a\udfffb"})") == "invalidSyntax");
  BOOST_TEST(CodeOf(R"({"\udc00":1})") == "invalidSyntax");
  BOOST_TEST(CodeOf(R"({"v":"a\ud800b"})") == "invalidSyntax");
  BOOST_TEST(CodeOf(R"({"v":"\ude00\ud83d"})") == "invalidSyntax");
  // U+D7FF and U+E000 sit either side of the surrogates and are fine.
  BOOST_TEST(CodeOf(R"({"v":"\ud7ff\ue000"})") == "ok");
}

BOOST_AUTO_TEST_CASE(raw_bytes_must_be_utf8_and_nul_is_refused) {
  BOOST_TEST(CodeOf("{\"v\":\"\xED\xA0\x80\"}") == "invalidSyntax");
  BOOST_TEST(CodeOf("{\"v\":\"\xC3\"}") == "invalidSyntax");
  BOOST_TEST(CodeOf(R"({"v":"a\u0000b"})") == "invalidValue");
  BOOST_TEST(CodeOf("{\"v\":\"\xED\x9F\xBF\"}") == "ok");  // U+D7FF, raw
}

BOOST_AUTO_TEST_CASE(nesting_is_bounded) {
  Document doc;
  BOOST_TEST(!Parse(std::string(40, '[') + std::string(40, ']'), doc, 32).ok());
  BOOST_TEST(Parse(std::string(32, '[') + std::string(32, ']'), doc, 32).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::json
