#pragma once
// What the PATCH engine's files share about one operation: its kind (RFC 7644 §3.5.2 "add",
// "remove", "replace") and the constructors of the errors it reports.

#include <string>

#include "scim/common/result.h"

namespace scim::patch::internal {

enum class OpKind { kAdd, kRemove, kReplace };

inline const char* OpName(OpKind kind) {
  switch (kind) {
    case OpKind::kAdd:
      return "add";
    case OpKind::kRemove:
      return "remove";
    case OpKind::kReplace:
      return "replace";
  }
  return "?";
}

inline Error InvalidValue(std::string detail) {
  return Error(ErrorCode::kInvalidValue, std::move(detail));
}
inline Error InvalidPath(std::string detail) {
  return Error(ErrorCode::kInvalidPath, std::move(detail));
}
inline Error MutabilityError(std::string detail) {
  return Error(ErrorCode::kMutability, std::move(detail));
}
inline Error NoTarget(std::string detail) { return Error(ErrorCode::kNoTarget, std::move(detail)); }

}  // namespace scim::patch::internal
