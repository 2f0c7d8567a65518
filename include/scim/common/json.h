#pragma once
// JSON helpers over RapidJSON. Parsing is iterative with a nesting limit and UTF-8 validation, so
// hostile input can neither overflow the stack nor smuggle invalid text. Never compare a
// rapidjson::Value with a primitive (`v == 1`): under C++20 that recurses forever; use getters.

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "scim/common/result.h"

namespace scim::json {

using Document = rapidjson::Document;
using Value = rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

inline constexpr size_t kDefaultMaxDepth = 64;

// Parses `text` into `out`. Errors are kInvalidSyntax with the offset and reason, or kInvalidSyntax
// when the nesting is deeper than `max_depth`.
Status Parse(std::string_view text, Document& out, size_t max_depth = kDefaultMaxDepth);

// Compact serialization.
std::string Serialize(const Value& value);

// Case-insensitive member lookup (SCIM attribute names are case-insensitive, RFC 7643 §2.1).
// Returns nullptr when `object` is not an object or has no such member.
const Value* FindMemberCI(const Value& object, std::string_view name);
Value* FindMemberCI(Value& object, std::string_view name);

// Removes every member named `name` (case-insensitively); returns how many were removed.
int RemoveMemberCI(Value& object, std::string_view name);

// A string Value copied into `alloc`.
inline Value String(std::string_view s, Allocator& alloc) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

// The string content of a string Value as a view (no copy).
inline std::string_view View(const Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

}  // namespace scim::json
