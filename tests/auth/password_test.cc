#include "scim/auth/password.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace auth = scim::auth;
using scim::ErrorCode;

namespace {

// Independently computed with Python: hashlib.pbkdf2_hmac("sha256",
// b"correct horse battery staple", bytes(range(16)), 10000, 32), salt and hash base64url unpadded.
constexpr const char* kKnownHash =
    "pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw$2flfZcLfnShdJogjAMpb4p4-1QBVZmODXExi4nBRUCI";

// Replaces field `index` (0-based, '$'-separated) of `encoded`.
std::string WithField(const std::string& encoded, int index, const std::string& value) {
  std::string out;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t end = encoded.find('$', start);
    if (i > 0) out += '$';
    out += (i == index) ? value : encoded.substr(start, end - start);
    start = end + 1;
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(password)

BOOST_AUTO_TEST_CASE(hash_format_and_round_trip) {
  auto encoded = auth::HashPassword("s3cret-Pässword");
  BOOST_TEST_REQUIRE(encoded.ok());
  // pbkdf2-sha256$210000$<22 chars: 16 bytes>$<43 chars: 32 bytes>
  BOOST_TEST(encoded->rfind("pbkdf2-sha256$210000$", 0) == 0u);
  BOOST_TEST(encoded->size() == std::string("pbkdf2-sha256$210000$").size() + 22 + 1 + 43);

  auto ok = auth::VerifyPassword("s3cret-Pässword", *encoded);
  BOOST_TEST_REQUIRE(ok.ok());
  BOOST_TEST(*ok);
}

BOOST_AUTO_TEST_CASE(wrong_password_is_rejected) {
  auto encoded = auth::HashPassword("hunter2");
  BOOST_TEST_REQUIRE(encoded.ok());
  for (const char* wrong : {"hunter3", "Hunter2", "hunter2 ", "", "hunter"}) {
    auto result = auth::VerifyPassword(wrong, *encoded);
    BOOST_TEST_REQUIRE(result.ok());
    BOOST_TEST(!*result, "password: " << wrong);
  }
}

BOOST_AUTO_TEST_CASE(verifies_independently_computed_hash) {
  auto ok = auth::VerifyPassword("correct horse battery staple", kKnownHash);
  BOOST_TEST_REQUIRE(ok.ok());
  BOOST_TEST(*ok);
  auto wrong = auth::VerifyPassword("correct horse battery stapler", kKnownHash);
  BOOST_TEST_REQUIRE(wrong.ok());
  BOOST_TEST(!*wrong);
}

BOOST_AUTO_TEST_CASE(same_password_gets_different_salts) {
  auto a = auth::HashPassword("same");
  auto b = auth::HashPassword("same");
  BOOST_TEST_REQUIRE((a.ok() && b.ok()));
  BOOST_TEST(*a != *b);
  BOOST_TEST(WithField(*a, 2, "") != WithField(*b, 2, ""));  // the hashes differ, not just salts
}

BOOST_AUTO_TEST_CASE(tampered_fields_do_not_verify) {
  const std::string password = "correct horse battery staple";
  const std::string known = kKnownHash;
  // Well-formed but altered: a different hash, salt or iteration count must not match.
  const std::string altered[] = {
      WithField(known, 3, "3flfZcLfnShdJogjAMpb4p4-1QBVZmODXExi4nBRUCI"),
      WithField(known, 2, "AQECAwQFBgcICQoLDA0ODw"),
      WithField(known, 1, "10001"),
  };
  for (const std::string& encoded : altered) {
    auto result = auth::VerifyPassword(password, encoded);
    BOOST_TEST_REQUIRE(result.ok(), encoded);
    BOOST_TEST(!*result, encoded);
  }
}

BOOST_AUTO_TEST_CASE(malformed_encodings_are_errors) {
  const std::string known = kKnownHash;
  const std::string malformed[] = {
      "",
      "garbage",
      WithField(known, 0, "pbkdf2-sha1"),
      WithField(known, 0, "PBKDF2-SHA256"),
      WithField(known, 1, ""),
      WithField(known, 1, "-10000"),
      WithField(known, 1, "010000"),
      WithField(known, 1, "10000x"),
      WithField(known, 1, "9999"),                      // below kMinPasswordIterations
      WithField(known, 1, "10000001"),                  // above kMaxPasswordIterations
      WithField(known, 1, "99999999999999999999"),      // overflows int
      WithField(known, 2, "AAECAwQFBgcICQoLDA0ODw=="),  // padding
      WithField(known, 2, "AAECAwQFBgcICQoLDA0O"),      // 15-byte salt
      WithField(known, 2, "AAECAwQFBgcICQoLDA0OD!"),    // not base64url
      WithField(known, 3, "2flfZcLfnShdJogjAMpb4p4-1QBVZmODXExi4nBRUC"),   // truncated hash
      WithField(known, 3, "2flfZcLfnShdJogjAMpb4p4-1QBVZmODXExi4nBRUCJ"),  // non-canonical tail
      known + "$extra",
      known.substr(0, known.rfind('$')),
  };
  for (const std::string& encoded : malformed) {
    auto result = auth::VerifyPassword("correct horse battery staple", encoded);
    BOOST_TEST_REQUIRE(!result.ok(), "encoded: " << encoded);
    BOOST_TEST((result.error().code == ErrorCode::kInternal), "encoded: " << encoded);
  }
}

BOOST_AUTO_TEST_CASE(overlong_passwords_are_invalid_values) {
  const std::string longest(auth::kMaxPasswordBytes, 'x');
  const std::string too_long(auth::kMaxPasswordBytes + 1, 'x');

  auto hashed = auth::HashPassword(too_long);
  BOOST_TEST_REQUIRE(!hashed.ok());
  BOOST_TEST((hashed.error().code == ErrorCode::kInvalidValue));

  auto verified = auth::VerifyPassword(too_long, kKnownHash);
  BOOST_TEST_REQUIRE(!verified.ok());
  BOOST_TEST((verified.error().code == ErrorCode::kInvalidValue));

  auto at_limit = auth::HashPassword(longest);
  BOOST_TEST_REQUIRE(at_limit.ok());
  auto round_trip = auth::VerifyPassword(longest, *at_limit);
  BOOST_TEST_REQUIRE(round_trip.ok());
  BOOST_TEST(*round_trip);
}

BOOST_AUTO_TEST_CASE(empty_password_round_trips) {
  auto encoded = auth::HashPassword("");
  BOOST_TEST_REQUIRE(encoded.ok());
  auto ok = auth::VerifyPassword("", *encoded);
  BOOST_TEST_REQUIRE(ok.ok());
  BOOST_TEST(*ok);
  auto wrong = auth::VerifyPassword("x", *encoded);
  BOOST_TEST_REQUIRE(wrong.ok());
  BOOST_TEST(!*wrong);
}

BOOST_AUTO_TEST_SUITE_END()
