#pragma once
// JSON helpers of the PATCH engine: setting and merging members under canonical names, and the
// comparisons of values by their attribute definition (caseExact strings, dateTimes as instants,
// "same element" of a multi-valued attribute).

#include <string>
#include <string_view>
#include <vector>

#include "scim/common/json.h"
#include "scim/schema/attribute.h"

namespace scim::patch::internal {

// Sets object[name] = value (moved), renaming a case-insensitive match to `name` in place.
void SetMember(json::Value& object, std::string_view name, json::Value& value,
               json::Allocator& alloc);

// Moves every member of `src` into `dst` (sub-attribute merge of §3.5.2.1 / §3.5.2.3).
void MergeObject(json::Value& dst, json::Value& src, json::Allocator& alloc);

// Equality of two simple values of an attribute (strings per caseExact, dateTimes as instants).
bool ScalarEquals(const schema::Attribute* def, const json::Value& a, const json::Value& b);

// Whether two elements of a multi-valued attribute denote the same value: same "value" and same
// "type" for complex attributes that have a "value" sub-attribute, plain equality otherwise.
bool SameElement(const schema::Attribute& attr, const json::Value& x, const json::Value& y);

// Whether every member of `given` equals the same member of `element` (remove-by-value).
bool ElementContains(const schema::Attribute& attr, const json::Value& element,
                     const json::Value& given);

// Null, absent, an empty array or an empty object: unassigned (RFC 7643 §2.5).
bool IsEmptyValue(const json::Value* v);

// Whether an element of a multi-valued attribute has "primary": true.
bool IsPrimary(const json::Value& element);

// Appends `item` unless `list` already holds it.
void AddOnce(std::vector<std::string>& list, const std::string& item);

}  // namespace scim::patch::internal
