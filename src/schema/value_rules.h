#pragma once
// Per-attribute value rules of the validator (RFC 7643 §2.3 data types, §2.4 multi-valued
// attributes, §2.5 unassigned values). Private to the schema module.

#include <string>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/attribute.h"

namespace scim::schema::internal {

// Checks and normalizes the client value `in` of attribute `attr` into `out` (allocated with
// `alloc`). `path` names the attribute in error details ("emails.value"). `out` is left Null when
// the value is unassigned (null, an empty array, or a complex value with nothing left), so the
// caller drops it. readOnly sub-attributes are dropped. Errors: kInvalidValue for a wrong type,
// length, canonical value, missing required sub-attribute or a second primary; kInvalidSyntax for
// an unknown or repeated sub-attribute.
Status NormalizeAttributeValue(const Attribute& attr, const json::Value& in,
                               const std::string& path, json::Allocator& alloc, json::Value& out);

// kInvalidValue "value too long" when `v` is a string over kMaxStringBytes.
Status CheckStringLength(const json::Value& v, const std::string& path);

}  // namespace scim::schema::internal
