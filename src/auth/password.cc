#include "scim/auth/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "auth/base64.h"
#include "scim/common/strings.h"

namespace scim::auth {
namespace {

constexpr std::string_view kTag = "pbkdf2-sha256";

Error TooLong() {
  return Error(ErrorCode::kInvalidValue,
               "password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
}

Error Malformed(std::string_view why) {
  return Error(ErrorCode::kInternal, "stored password hash is malformed: " + std::string(why));
}

// PBKDF2-HMAC-SHA256 of `plain` into `out` (kPasswordHashBytes).
bool Derive(std::string_view plain, std::string_view salt, int iterations,
            std::array<unsigned char, kPasswordHashBytes>& out) {
  const char* pass = plain.empty() ? "" : plain.data();
  return PKCS5_PBKDF2_HMAC(pass, static_cast<int>(plain.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(),
                           static_cast<int>(out.size()), out.data()) == 1;
}

// Parses the decimal iteration count: digits only, no sign or leading zero.
std::optional<int> ParseIterations(std::string_view s) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

Result<std::string> HashPassword(std::string_view plain) {
  if (plain.size() > kMaxPasswordBytes) return TooLong();
  std::array<unsigned char, kPasswordSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Error(ErrorCode::kInternal, "RAND_bytes failed to generate a password salt");
  }
  std::string_view salt_view(reinterpret_cast<const char*>(salt.data()), salt.size());
  std::array<unsigned char, kPasswordHashBytes> hash{};
  if (!Derive(plain, salt_view, kPasswordIterations, hash)) {
    return Error(ErrorCode::kInternal, "PBKDF2 failed");
  }
  std::string encoded(kTag);
  encoded += '$';
  encoded += std::to_string(kPasswordIterations);
  encoded += '$';
  encoded += Base64UrlEncode(salt_view);
  encoded += '$';
  encoded +=
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
  OPENSSL_cleanse(hash.data(), hash.size());
  return encoded;
}

Result<bool> VerifyPassword(std::string_view plain, std::string_view encoded) {
  if (plain.size() > kMaxPasswordBytes) return TooLong();
  std::vector<std::string> parts = Split(encoded, '$');
  if (parts.size() != 4) return Malformed("expected 4 fields separated by '$'");
  if (parts[0] != kTag) return Malformed("unknown algorithm tag");
  std::optional<int> iterations = ParseIterations(parts[1]);
  if (!iterations || *iterations < kMinPasswordIterations || *iterations > kMaxPasswordIterations) {
    return Malformed("iteration count out of range");
  }
  std::optional<std::string> salt = Base64UrlDecode(parts[2]);
  if (!salt || salt->size() != kPasswordSaltBytes) return Malformed("bad salt");
  std::optional<std::string> expected = Base64UrlDecode(parts[3]);
  if (!expected || expected->size() != kPasswordHashBytes) return Malformed("bad hash");

  std::array<unsigned char, kPasswordHashBytes> actual{};
  if (!Derive(plain, *salt, *iterations, actual)) {
    return Error(ErrorCode::kInternal, "PBKDF2 failed");
  }
  bool match = CRYPTO_memcmp(actual.data(), expected->data(), kPasswordHashBytes) == 0;
  OPENSSL_cleanse(actual.data(), actual.size());
  return match;
}

}  // namespace scim::auth
