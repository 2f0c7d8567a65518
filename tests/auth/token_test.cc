#include "scim/auth/token.h"

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

#include "auth/base64.h"
#include "scim/common/clock.h"

namespace auth = scim::auth;
using auth::Scope;
using scim::ErrorCode;

BOOST_AUTO_TEST_SUITE(token)

BOOST_AUTO_TEST_CASE(secret_has_prefix_and_256_random_bits) {
  auto secret = auth::GenerateTokenSecret();
  BOOST_TEST_REQUIRE(secret.ok());
  BOOST_TEST(secret->size() == 49u);  // "scimd_" + 43 base64url characters
  BOOST_TEST(secret->rfind("scimd_", 0) == 0u);
  auto raw =
      auth::Base64UrlDecode(std::string_view(*secret).substr(auth::kTokenSecretPrefix.size()));
  BOOST_TEST_REQUIRE(raw.has_value());
  BOOST_TEST(raw->size() * 8 == 256u);
  // A usable bearer token as is: no characters outside the RFC 6750 b64token set.
  auto parsed = auth::ParseBearer("Bearer " + *secret);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(*parsed == *secret);
}

BOOST_AUTO_TEST_CASE(secrets_are_unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto secret = auth::GenerateTokenSecret();
    BOOST_TEST_REQUIRE(secret.ok());
    seen.insert(*secret);
  }
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(hash_matches_sha256_test_vectors) {
  // FIPS 180-2 appendix B.1 and the empty-message digest.
  BOOST_TEST(auth::HashTokenSecret("abc") ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(auth::HashTokenSecret("") ==
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(auth::HashTokenSecret("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

BOOST_AUTO_TEST_CASE(hash_is_deterministic_and_distinguishes_secrets) {
  auto a = auth::GenerateTokenSecret();
  auto b = auth::GenerateTokenSecret();
  BOOST_TEST_REQUIRE((a.ok() && b.ok()));
  BOOST_TEST(auth::HashTokenSecret(*a) == auth::HashTokenSecret(*a));
  BOOST_TEST(auth::HashTokenSecret(*a) != auth::HashTokenSecret(*b));
  BOOST_TEST(auth::HashTokenSecret(*a).size() == 64u);
}

BOOST_AUTO_TEST_CASE(constant_time_equals_semantics) {
  BOOST_TEST(auth::ConstantTimeEquals("", ""));
  BOOST_TEST(auth::ConstantTimeEquals("abc", "abc"));
  BOOST_TEST(!auth::ConstantTimeEquals("abc", "abd"));
  BOOST_TEST(!auth::ConstantTimeEquals("abc", "xbc"));
  BOOST_TEST(!auth::ConstantTimeEquals("abc", "abcd"));  // prefix of the other
  BOOST_TEST(!auth::ConstantTimeEquals("abcd", "abc"));
  BOOST_TEST(!auth::ConstantTimeEquals("", "a"));
  BOOST_TEST(auth::ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  BOOST_TEST(!auth::ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

BOOST_AUTO_TEST_CASE(parse_scopes) {
  auto defaults = auth::ParseScopes(auth::kDefaultScopes);
  BOOST_TEST_REQUIRE(defaults.ok());
  BOOST_TEST((*defaults == std::set<Scope>{Scope::kRead, Scope::kWrite}));

  auto all = auth::ParseScopes(" admin , scim:read,scim:write,scim:read ");
  BOOST_TEST_REQUIRE(all.ok());
  BOOST_TEST((*all == std::set<Scope>{Scope::kRead, Scope::kWrite, Scope::kAdmin}));

  auto op = auth::ParseScopes("operator,admin");
  BOOST_TEST_REQUIRE(op.ok());
  BOOST_TEST((*op == std::set<Scope>{Scope::kAdmin, Scope::kOperator}));
  BOOST_TEST(auth::FormatScopes(*op) == "admin,operator");

  auto none = auth::ParseScopes("");
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST(none->empty());
}

BOOST_AUTO_TEST_CASE(parse_scopes_rejects_unknown_and_empty_entries) {
  auto unknown = auth::ParseScopes("scim:read,scim:delete");
  BOOST_TEST_REQUIRE(!unknown.ok());
  BOOST_TEST((unknown.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(unknown.error().detail.find("scim:delete") != std::string::npos);

  auto wrong_case = auth::ParseScopes("SCIM:READ");
  BOOST_TEST_REQUIRE(!wrong_case.ok());
  BOOST_TEST(wrong_case.error().detail.find("SCIM:READ") != std::string::npos);

  auto not_admin = auth::ParseScopes("scim:admin");  // the admin scope is plain "admin"
  BOOST_TEST_REQUIRE(!not_admin.ok());
  BOOST_TEST((not_admin.error().code == ErrorCode::kInvalidValue));

  auto empty_entry = auth::ParseScopes("scim:read,,scim:write");
  BOOST_TEST_REQUIRE(!empty_entry.ok());
  BOOST_TEST((empty_entry.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(!auth::ParseScopes("scim:read,").ok());
}

BOOST_AUTO_TEST_CASE(format_scopes) {
  BOOST_TEST(auth::FormatScopes({}) == "");
  BOOST_TEST(auth::FormatScopes({Scope::kWrite, Scope::kRead}) == "scim:read,scim:write");
  BOOST_TEST(auth::FormatScopes({Scope::kAdmin, Scope::kRead, Scope::kWrite}) ==
             "scim:read,scim:write,admin");
  BOOST_TEST(auth::ScopeName(Scope::kAdmin) == "admin");
  for (const std::set<Scope>& scopes :
       {std::set<Scope>{}, std::set<Scope>{Scope::kAdmin},
        std::set<Scope>{Scope::kRead, Scope::kWrite, Scope::kAdmin}}) {
    auto parsed = auth::ParseScopes(auth::FormatScopes(scopes));
    BOOST_TEST_REQUIRE(parsed.ok());
    BOOST_TEST((*parsed == scopes));
  }
}

namespace {
auth::TokenRecord Record() {
  auth::TokenRecord r;
  r.name = "okta";
  r.secret_hash = auth::HashTokenSecret("scimd_x");
  r.scopes = {Scope::kRead};
  r.created = "2026-01-01T00:00:00.000Z";
  return r;
}
}  // namespace

BOOST_AUTO_TEST_CASE(token_usable_without_expiry) {
  BOOST_TEST(auth::TokenUsable(Record(), "2026-06-01T12:00:00.000Z"));
  BOOST_TEST(auth::TokenUsable(Record(), scim::NowTimestamp()));
}

BOOST_AUTO_TEST_CASE(token_usable_until_expiry) {
  auto r = Record();
  r.expires = "2026-02-01T00:00:00.000Z";
  BOOST_TEST(auth::TokenUsable(r, "2026-01-31T23:59:59.999Z"));
  BOOST_TEST(!auth::TokenUsable(r, "2026-02-01T00:00:00.000Z"));  // expiry instant is excluded
  BOOST_TEST(!auth::TokenUsable(r, "2026-02-01T00:00:00.001Z"));
  BOOST_TEST(!auth::TokenUsable(r, "2027-01-01T00:00:00.000Z"));
}

BOOST_AUTO_TEST_CASE(revoked_token_is_unusable) {
  auto r = Record();
  r.revoked = "2026-01-15T00:00:00.000Z";
  BOOST_TEST(!auth::TokenUsable(r, "2026-01-20T00:00:00.000Z"));
  BOOST_TEST(!auth::TokenUsable(r, "2026-01-10T00:00:00.000Z"));  // any revocation counts
  r.expires = "2030-01-01T00:00:00.000Z";
  BOOST_TEST(!auth::TokenUsable(r, "2026-01-20T00:00:00.000Z"));
}

BOOST_AUTO_TEST_CASE(token_usable_fails_closed_on_bad_timestamps) {
  auto r = Record();
  r.expires = "2030-01-01";  // not canonical: would compare wrongly as text
  BOOST_TEST(!auth::TokenUsable(r, "2026-01-20T00:00:00.000Z"));
  r.expires = "2030-01-01T00:00:00Z";
  BOOST_TEST(!auth::TokenUsable(r, "2026-01-20T00:00:00.000Z"));
  BOOST_TEST(!auth::TokenUsable(Record(), "not a time"));
  BOOST_TEST(!auth::TokenUsable(Record(), "2026-01-20T01:00:00.000+01:00"));
}

BOOST_AUTO_TEST_CASE(parse_bearer_accepts_rfc6750_forms) {
  auto check = [](std::string_view header, std::string_view token) {
    auto parsed = auth::ParseBearer(header);
    BOOST_TEST_REQUIRE(parsed.has_value(), "header: " << header);
    BOOST_TEST(*parsed == token, "header: " << header);
  };
  check("Bearer mF_9.B5f-4.1JqM", "mF_9.B5f-4.1JqM");  // RFC 6750 §2.1 example
  check("bearer abc", "abc");
  check("BEARER abc", "abc");
  check("BeArEr abc", "abc");
  check("Bearer    abc", "abc");
  check("  Bearer abc  ", "abc");
  check("Bearer\tabc", "abc");
  check("Bearer a+b/c~d==", "a+b/c~d==");
}

BOOST_AUTO_TEST_CASE(parse_bearer_rejects_everything_else) {
  const char* bad[] = {
      "",
      "Bearer",
      "Bearer ",
      "Bearer    ",
      "Bearerabc",           // no separator: a different scheme
      "Basic dXNlcjpwYXNz",  // other scheme
      "Token abc",
      "Bear abc",
      "abc",
      "Bearer a b",           // two tokens
      "Bearer abc, realm=x",  // parameters are not part of the credentials
      "Bearer =abc",          // padding only at the end
      "Bearer abc=def",
      "Bearer \"abc\"",  // quoted-string is not a b64token
      "Bearer abc\r\nX: y",
  };
  for (const char* header : bad) {
    BOOST_TEST(!auth::ParseBearer(header).has_value(), "header: " << header);
  }
}

BOOST_AUTO_TEST_SUITE_END()
