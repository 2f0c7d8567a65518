#pragma once
// The one error type that crosses module borders. Each module converts its own failures (SOCI,
// RapidJSON, yaml-cpp, curl, Pistache) into an Error at its edge; only src/http maps ErrorCode to
// an HTTP status and a SCIM scimType (RFC 7644 §3.12).

#include <string>
#include <utility>

namespace scim {

enum class ErrorCode {
  // SCIM scimType values of RFC 7644 §3.12 (all 400 except kUniqueness 409, kTooMany 400).
  kInvalidFilter,
  kTooMany,
  kUniqueness,
  kMutability,
  kInvalidSyntax,
  kInvalidPath,
  kNoTarget,
  kInvalidValue,
  kInvalidVersion,
  kSensitive,
  kInvalidCursor,  // RFC 9865 §4
  // Errors without a scimType.
  kBadRequest,          // 400 without scimType
  kUnauthorized,        // 401
  kForbidden,           // 403
  kNotFound,            // 404
  kConflict,            // 409 without scimType
  kMethodNotAllowed,    // 405 (the path exists, the method does not)
  kPreconditionFailed,  // 412 (If-Match did not match)
  kPayloadTooLarge,     // 413
  kUnsupportedMediaType,  // 415 (a body that is not application/scim+json or application/json)
  kTooManyRequests,     // 429
  kInternal,            // 500, detail never shown to clients
  kNotImplemented,      // 501
  kUnavailable,         // 503 (database unreachable, target down)
};

// A failure with a human-readable detail safe to show to a SCIM client (except kInternal).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail;

  Error() = default;
  Error(ErrorCode c, std::string d) : code(c), detail(std::move(d)) {}
};

// Short name of a code for logs and tests ("invalidFilter", "notFound", ...).
const char* ErrorCodeName(ErrorCode code);

}  // namespace scim
