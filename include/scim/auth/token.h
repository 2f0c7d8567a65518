#pragma once
// API tokens: secret generation and hashing, scopes, usability checks and the Authorization header.
// Pure functions over OpenSSL libcrypto; persistence lives in `store`, HTTP in `http`. Every
// function here is thread-safe (OpenSSL 3 initialises itself and its default RNG is thread-safe).

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "scim/common/result.h"

namespace scim::auth {

// Every secret starts with this, so a leaked token is recognisable (secret scanners, logs).
inline constexpr std::string_view kTokenSecretPrefix = "scimd_";

// Random bytes behind each secret: 256 bits.
inline constexpr size_t kTokenSecretBytes = 32;

// Returns a new secret: kTokenSecretPrefix followed by kTokenSecretBytes from RAND_bytes, encoded
// as URL-safe base64 without padding (RFC 4648 §5), 6 + 43 = 49 characters, all of them valid in
// an RFC 6750 b64token. The secret is shown once and only its HashTokenSecret is stored.
// Errors: kInternal when the OpenSSL RNG cannot deliver (it is not seeded).
Result<std::string> GenerateTokenSecret();

// Lowercase hex SHA-256 (64 characters) of the whole secret, prefix included. A fast hash is
// enough here: secrets carry 256 random bits, so there is nothing to brute-force, and a plain
// digest lets the store find a token by its hash. Aborts only if libcrypto cannot run SHA-256
// (out of memory), which the process cannot recover from.
std::string HashTokenSecret(std::string_view secret);

// True when `a` and `b` hold the same bytes. The time taken depends on the length only, never on
// where the bytes differ (CRYPTO_memcmp); different lengths return false at once, so the length
// itself is not secret. Compare fixed-length values (hashes) with it.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// What a token may do. The HTTP layer answers 403 when a request needs a scope the token lacks;
// no SCIM scope implies another (kAdmin does not grant kRead). kOperator is the one exception on
// the admin side: it reaches every /admin/v1 endpoint kAdmin reaches, across all tenants.
enum class Scope {
  kRead,      // "scim:read": GET and searches on the SCIM endpoints
  kWrite,     // "scim:write": POST, PUT, PATCH, DELETE and /Bulk
  kAdmin,     // "admin": the /admin/v1 API, for the token's own tenant
  kOperator,  // "operator": the /admin/v1 API across tenants; created only by the CLI
};

// The scopes given to `scimd token create` when --scopes is absent.
inline constexpr std::string_view kDefaultScopes = "scim:read,scim:write";

// The wire name of a scope: "scim:read", "scim:write", "admin" or "operator".
std::string_view ScopeName(Scope scope);

// Parses a comma-separated scope list such as "scim:read,scim:write". Names are case-sensitive,
// whitespace around each name is ignored and duplicates collapse. An empty (or all-blank) text
// gives the empty set, so that FormatScopes round-trips; callers that need at least one scope
// check that themselves. Errors: kInvalidValue naming the first unknown or empty entry.
Result<std::set<Scope>> ParseScopes(std::string_view text);

// The inverse of ParseScopes: names joined by "," in enum order, e.g. "scim:read,scim:write".
std::string FormatScopes(const std::set<Scope>& scopes);

// A token as the store keeps it. Timestamps are canonical UTC strings from scim/common/clock.h
// ("2026-11-21T15:26:00.123Z"), which order correctly as text.
struct TokenRecord {
  std::string name;                    // unique, chosen by the operator (--name)
  std::string tenant;                  // --tenant; empty when not given
  std::string secret_hash;             // HashTokenSecret of the secret; the secret is never kept
  std::set<Scope> scopes;              // what it may do
  std::string created;                 // when it was created
  std::optional<std::string> expires;  // first instant it is no longer valid; nullopt = never
  std::optional<std::string> revoked;  // when it was revoked; nullopt = not revoked
  // Usage, as last written back by a server (it counts in memory and flushes now and then).
  std::optional<std::string> last_used;
  long long request_count = 0;
  bool tenant_disabled = false;  // its tenant is disabled: the token does not authenticate
};

// True when `token` may authenticate a request at `now` (a canonical timestamp, usually
// NowTimestamp()): it is not revoked (any revocation time counts, past or future) and it has not
// expired (now < expires). Fails closed: a non-canonical `now` or `expires` makes it unusable.
// Does not look at scopes or the secret.
bool TokenUsable(const TokenRecord& token, std::string_view now);

// Extracts the token from an Authorization header value of the form "Bearer <token>" (RFC 6750
// §2.1). The scheme is case-insensitive (RFC 9110 §11.1); spaces or tabs around the value and
// between scheme and token are tolerated. The token must be a non-empty RFC 6750 b64token
// (ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then optional "=" padding). Returns nullopt
// for any other scheme, a missing token, or extra parameters after the token.
std::optional<std::string> ParseBearer(std::string_view authorization);

}  // namespace scim::auth
