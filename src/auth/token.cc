#include "scim/auth/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "auth/base64.h"
#include "scim/common/clock.h"
#include "scim/common/strings.h"

namespace scim::auth {
namespace {

struct ScopeEntry {
  Scope scope;
  std::string_view name;
};

constexpr std::array<ScopeEntry, 4> kScopes = {{
    {Scope::kRead, "scim:read"},
    {Scope::kWrite, "scim:write"},
    {Scope::kAdmin, "admin"},
    {Scope::kOperator, "operator"},
}};

bool IsCanonicalTimestamp(std::string_view s) {
  std::optional<std::string> normal = NormalizeTimestamp(s);
  return normal.has_value() && *normal == s;
}

bool IsB64TokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsB64Token(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsB64TokenChar(s[i])) ++i;
  if (i == 0) return false;
  while (i < s.size() && s[i] == '=') ++i;
  return i == s.size();
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Result<std::string> GenerateTokenSecret() {
  std::array<unsigned char, kTokenSecretBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Error(ErrorCode::kInternal, "RAND_bytes failed to generate a token secret");
  }
  std::string secret(kTokenSecretPrefix);
  secret +=
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return secret;
}

std::string HashTokenSecret(std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(secret.data(), secret.size(), digest, &length, EVP_sha256(), nullptr) != 1 ||
      length != 32) {
    std::fputs("scimd: fatal: SHA-256 unavailable in libcrypto\n", stderr);
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0F];
  }
  return hex;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view ScopeName(Scope scope) {
  for (const ScopeEntry& entry : kScopes) {
    if (entry.scope == scope) return entry.name;
  }
  return "unknown";  // unreachable for a valid enumerator
}

Result<std::set<Scope>> ParseScopes(std::string_view text) {
  std::set<Scope> scopes;
  if (Trim(text).empty()) return scopes;
  for (const std::string& part : Split(text, ',')) {
    std::string_view name = Trim(part);
    if (name.empty()) {
      return Error(ErrorCode::kInvalidValue, "empty scope in list \"" + std::string(text) + "\"");
    }
    bool found = false;
    for (const ScopeEntry& entry : kScopes) {
      if (entry.name == name) {
        scopes.insert(entry.scope);
        found = true;
        break;
      }
    }
    if (!found) {
      return Error(ErrorCode::kInvalidValue, "unknown scope \"" + std::string(name) +
                                                 "\" (expected scim:read, scim:write or admin)");
    }
  }
  return scopes;
}

std::string FormatScopes(const std::set<Scope>& scopes) {
  std::string out;
  for (Scope scope : scopes) {
    if (!out.empty()) out += ',';
    out += ScopeName(scope);
  }
  return out;
}

bool TokenUsable(const TokenRecord& token, std::string_view now) {
  if (token.revoked.has_value()) return false;
  if (!IsCanonicalTimestamp(now)) return false;
  if (token.expires.has_value()) {
    if (!IsCanonicalTimestamp(*token.expires)) return false;
    if (now >= std::string_view(*token.expires)) return false;
  }
  return true;
}

std::optional<std::string> ParseBearer(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer";
  std::string_view value = authorization;
  while (!value.empty() && IsSpace(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsSpace(value.back())) value.remove_suffix(1);
  if (!StartsWithIgnoreCase(value, kScheme)) return std::nullopt;
  value.remove_prefix(kScheme.size());
  // At least one space must separate the scheme from the token ("Bearerabc" is another scheme).
  if (value.empty() || !IsSpace(value.front())) return std::nullopt;
  while (!value.empty() && IsSpace(value.front())) value.remove_prefix(1);
  if (!IsB64Token(value)) return std::nullopt;
  return std::string(value);
}

}  // namespace scim::auth
