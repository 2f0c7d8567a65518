#pragma once
// PATCH targets (RFC 7644 §3.5.2, figure 7): a path resolved against the schemas, and what its
// value filter selects: the matching elements of a multi-valued attribute, the `value eq "..."`
// shortcut for members, and the new element a filter of `attr eq literal` terms describes.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "patch/coerce.h"
#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/filter/bind.h"
#include "scim/schema/registry.h"

namespace scim::patch::internal {

struct Target {
  const schema::Attribute* attr = nullptr;    // top-level attribute
  const schema::Attribute* sub = nullptr;     // sub-attribute, after "." or "]."
  std::string ext_urn;                        // schema URN for extension attributes, else empty
  std::optional<filter::BoundFilter> filter;  // value filter selecting elements of `attr`
  std::string qualified;                      // canonical top-level name for changed_attributes
  std::string text;                           // the path as the client wrote it, for messages
};

// Parses and binds a PATCH path with the filter module: unknown attributes, malformed paths and a
// value filter on a single-valued attribute are kInvalidPath, errors inside the brackets
// kInvalidFilter (RFC 7644 §3.12 lists invalidFilter for PATCH path filters).
Result<Target> Resolve(const schema::Registry& registry, const schema::ResourceType& type,
                       std::string_view path);

// Whether `t` is the `members` attribute of a Group (handled as a delta, never in the JSON).
bool IsGroupMembers(const schema::ResourceType& type, const Target& t);

// The indexes of the elements of `array` (the attribute's current value, may be null) that the
// value filter of `t` matches.
std::vector<size_t> Matching(const Target& t, const json::Value* array);

// When the value filter of `t` is exactly `value eq "string"`: that string.
std::optional<std::string> SingleValueEq(const filter::BoundFilter& f);

// A new element for a filter that matched nothing: the filter's `attr eq literal` terms plus
// `extra` (an element object, or the value for t.sub; may be null). Entra ID relies on this for
// `add emails[type eq "work"].value`. kNoTarget when the filter is not such a conjunction.
Result<json::Value> ElementFromFilter(const Target& t, Coercer& coercer, json::Value* extra,
                                      json::Allocator& alloc);

}  // namespace scim::patch::internal
