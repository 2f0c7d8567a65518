#include "scim/common/error.h"

namespace scim {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidFilter: return "invalidFilter";
    case ErrorCode::kTooMany: return "tooMany";
    case ErrorCode::kUniqueness: return "uniqueness";
    case ErrorCode::kMutability: return "mutability";
    case ErrorCode::kInvalidSyntax: return "invalidSyntax";
    case ErrorCode::kInvalidPath: return "invalidPath";
    case ErrorCode::kNoTarget: return "noTarget";
    case ErrorCode::kInvalidValue: return "invalidValue";
    case ErrorCode::kInvalidVersion: return "invalidVers";
    case ErrorCode::kSensitive: return "sensitive";
    case ErrorCode::kInvalidCursor: return "invalidCursor";
    case ErrorCode::kBadRequest: return "badRequest";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kNotFound: return "notFound";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kPreconditionFailed: return "preconditionFailed";
    case ErrorCode::kPayloadTooLarge: return "payloadTooLarge";
    case ErrorCode::kTooManyRequests: return "tooManyRequests";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kNotImplemented: return "notImplemented";
    case ErrorCode::kMethodNotAllowed: return "methodNotAllowed";
    case ErrorCode::kUnsupportedMediaType: return "unsupportedMediaType";
    case ErrorCode::kUnavailable: return "unavailable";
  }
  return "internal";
}

}  // namespace scim
