#pragma once
// The client dialects the PATCH engine accepts beyond the letter of RFC 7644: the value forms
// Microsoft Entra ID sends (booleans as "True"/"False", the enterprise manager as a bare id,
// singular values wrapped in a one-element array) and path-less add/replace values whose keys
// are themselves paths or extension schema URNs (Entra ID, Okta).

#include <functional>
#include <optional>
#include <string>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/registry.h"

namespace scim::patch::internal {

// Entra ID before 2020 sent singular attributes as [{"value": v}]; [v] and, for a complex
// attribute, [{...}] are accepted too. For such a one-element array given for the singular
// attribute `attr`: the value inside it to use instead. nullptr when `in` is not of that form.
const json::Value* UnwrapLegacyArray(const schema::Attribute& attr, const json::Value& in);

// A boolean, or the string "true"/"false" in any letter case (Entra ID sends "False").
std::optional<bool> LenientBoolean(const json::Value& in);

// Whether `in` is a bare value standing for {"value": in} of the singular complex attribute
// `attr` (Entra ID sends the enterprise `manager` as the manager's id).
bool IsBareComplexValue(const schema::Attribute& attr, const json::Value& in);

// Applies the value of a path-less add/replace (§3.5.2.1 / §3.5.2.3: "the target location is
// assumed to be the resource itself") by calling `apply` for each of its targets, in order,
// stopping at the first error: each key is a path (an attribute name, an attribute path such as
// "name.givenName" or "emails[type eq \"work\"].value", or a URN-qualified path), except
// `schemas` (maintained by the server, skipped) and the URN of a schema of `type`, whose value is
// an object of that schema's attributes. kInvalidValue when `value` (or such a schema's value)
// is not an object.
using PathlessApply = std::function<Status(const std::string& path, const json::Value* value)>;
Status ForEachPathless(const schema::Registry& registry, const schema::ResourceType& type,
                       const char* op_name, const json::Value& value, const PathlessApply& apply);

}  // namespace scim::patch::internal
