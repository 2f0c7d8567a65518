#pragma once
// Password hashing for stored credentials (e.g. the SCIM User "password" attribute, RFC 7643
// §4.1.1, which is writeOnly and returned never). PBKDF2-HMAC-SHA256 over OpenSSL libcrypto;
// thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include "scim/common/result.h"

namespace scim::auth {

// PBKDF2-HMAC-SHA256 iterations for new hashes: 210,000, the OWASP Password Storage Cheat Sheet
// recommendation (2023) for PBKDF2-HMAC-SHA256. The count is stored in each hash, so raising it
// later keeps old hashes verifiable.
inline constexpr int kPasswordIterations = 210'000;

// Iteration counts VerifyPassword accepts from a stored hash. The upper bound caps the CPU one
// (corrupt or hostile) stored value can cost; the lower bound refuses values this code never
// wrote.
inline constexpr int kMinPasswordIterations = 10'000;
inline constexpr int kMaxPasswordIterations = 10'000'000;

// Random salt per hash, and length of the derived key (the SHA-256 output size).
inline constexpr size_t kPasswordSaltBytes = 16;
inline constexpr size_t kPasswordHashBytes = 32;

// Longest password accepted, in bytes: bounds the work and memory one request can cause, whatever
// the PBKDF2 implementation does with long keys.
inline constexpr size_t kMaxPasswordBytes = 1024;

// Hashes `plain` with a fresh kPasswordSaltBytes salt from RAND_bytes and kPasswordIterations,
// returning "pbkdf2-sha256$<iterations>$<salt>$<hash>" where salt and hash are URL-safe base64
// without padding (RFC 4648 §5). The bytes of `plain` are hashed as given (no normalisation);
// an empty password is allowed. Takes on the order of 100 ms of CPU.
// Errors: kInvalidValue when `plain` is longer than kMaxPasswordBytes; kInternal when the RNG or
// PBKDF2 fails.
Result<std::string> HashPassword(std::string_view plain);

// Checks `plain` against a string produced by HashPassword. The final comparison is constant-time
// (CRYPTO_memcmp). Returns true on a match and false on a mismatch.
// Errors: kInvalidValue when `plain` is longer than kMaxPasswordBytes (nothing is hashed);
// kInternal when `encoded` is not a well-formed hash (wrong tag, iterations outside
// [kMinPasswordIterations, kMaxPasswordIterations], bad base64, wrong salt or hash length), which
// means the stored value is corrupt, or when PBKDF2 fails.
Result<bool> VerifyPassword(std::string_view plain, std::string_view encoded);

}  // namespace scim::auth
