#include "auth/base64.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <utility>

using scim::auth::Base64UrlDecode;
using scim::auth::Base64UrlEncode;

BOOST_AUTO_TEST_SUITE(base64url)

// RFC 4648 §10 test vectors, without the "=" padding.
BOOST_AUTO_TEST_CASE(rfc4648_vectors_round_trip) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    BOOST_TEST(Base64UrlEncode(plain) == encoded);
    auto decoded = Base64UrlDecode(encoded);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(*decoded == plain);
  }
}

BOOST_AUTO_TEST_CASE(uses_url_safe_alphabet) {
  // Standard base64 of 0xfb 0xff is "+/8="; base64url uses "-" and "_" and drops the padding.
  BOOST_TEST(Base64UrlEncode(std::string("\xfb\xff", 2)) == "-_8");
  auto decoded = Base64UrlDecode("-_8");
  BOOST_TEST_REQUIRE(decoded.has_value());
  BOOST_TEST(*decoded == std::string("\xfb\xff", 2));
}

BOOST_AUTO_TEST_CASE(all_byte_values_round_trip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  auto decoded = Base64UrlDecode(Base64UrlEncode(bytes));
  BOOST_TEST_REQUIRE(decoded.has_value());
  BOOST_TEST(*decoded == bytes);
}

BOOST_AUTO_TEST_CASE(decode_is_strict) {
  BOOST_TEST(!Base64UrlDecode("Zg==").has_value());    // padding
  BOOST_TEST(!Base64UrlDecode("+/8").has_value());     // standard alphabet
  BOOST_TEST(!Base64UrlDecode("Zm9v\n").has_value());  // whitespace
  BOOST_TEST(!Base64UrlDecode("Z").has_value());       // length 1 mod 4
  BOOST_TEST(!Base64UrlDecode("Zh").has_value());      // non-zero unused bits ("Zg" is canonical)
  BOOST_TEST(!Base64UrlDecode("Zm9").has_value());     // non-zero unused bits ("Zm8" is canonical)
}

BOOST_AUTO_TEST_SUITE_END()
