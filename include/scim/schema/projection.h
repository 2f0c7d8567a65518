#pragma once
// Which attributes a response carries: the "returned" characteristic of each attribute
// (RFC 7643 §7) combined with the "attributes" and "excludedAttributes" query parameters
// (RFC 7644 §3.4.2.5, §3.9). Pure functions, safe to call from any thread.

#include <string>
#include <string_view>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/registry.h"

namespace scim::schema {

// The parsed query parameters. Every entry is a canonical path as ResolvedPath::QualifiedName
// gives it ("userName", "name.familyName", "meta.created", "urn:...:enterprise:2.0:User:
// manager.value"), or a bare extension URN standing for all of that extension's attributes.
// Both lists empty means "the default set".
struct AttributeSelection {
  std::vector<std::string> attributes;
  std::vector<std::string> excluded_attributes;
  // Items of `attributes=` with a value filter, as given ("emails[type eq \"work\"]",
  // "emails[type eq \"work\"].value"); their paths without the filter are in `attributes`.
  // Project ignores them: the service (which can bind filters) drops the elements that do not
  // match before projecting (service::ApplyValueFilters).
  std::vector<std::string> value_filtered;
};

// Parses the comma-separated query parameters (either may be empty). Every path must resolve
// with Registry::ResolvePath against `type` (case-insensitive names, optional URN prefixes,
// sub-attributes, common attributes), be an extension URN of `type`, or be "schemas" (RFC 7643
// §3, always returned anyway); empty items are skipped
// and duplicates removed. Error: kInvalidPath naming the first bad path.
// `attributes` (not `excluded`) may also hold value-filtered paths of multi-valued complex
// attributes, as vendors' test suites send: "emails[type eq \"work\"]" selects emails and
// lands in value_filtered (commas inside brackets or quotes do not split items); the filter
// itself is checked by the service, not here.
Result<AttributeSelection> ParseSelection(const Registry& registry, const ResourceType& type,
                                          std::string_view attributes, std::string_view excluded);

// Removes from `resource` (a full stored resource of `type`, modified in place) what the
// response must not carry:
//   returned "never"   always removed (password);
//   returned "always"  always kept (id; meta.resourceType, so a response always says its type;
//                      "schemas" is kept too), whatever the selection says;
//   returned "request" kept only when listed in `attributes`;
//   returned "default" kept unless excluded, or unless `attributes` is given and lists neither
//                      it, nor one of its sub-attributes, nor (for extensions) its schema URN.
// Listing a sub-attribute ("name.familyName", "emails.value") keeps only the listed
// sub-attributes of that attribute (plus "always" ones); listing the parent keeps its
// sub-attributes according to their own "returned". Complex values and extension objects left
// empty are removed (the extension's URN stays in "schemas"). `alloc` is the allocator of the
// document that owns `resource`.
void Project(const Registry& registry, const ResourceType& type,
             const AttributeSelection& selection, json::Value& resource, json::Allocator& alloc);

// Whether a projected resource of `type` can contain `attribute` (any path ResolvePath accepts,
// e.g. "members", "groups", "emails.value"); false for paths that do not resolve. Lets the store
// skip loading Group members for excludedAttributes=members. Agrees with Project.
bool MayReturn(const Registry& registry, const ResourceType& type,
               const AttributeSelection& selection, std::string_view attribute);

}  // namespace scim::schema
