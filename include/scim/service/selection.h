#pragma once
// The attributes/excludedAttributes query parameters as the service applies them: the schema's
// projection (schema/projection.h) plus value-filtered paths in `attributes`
// ("emails[type eq \"work\"]", "emails[type eq \"work\"].value"), which vendors' SCIM test suites
// send. RFC 7644 §3.4.2.5 defines `attributes` as attribute names; a value filter there returns
// the attribute with only the elements it selects (and their sub-attributes as the rest of the
// path says), the other multi-valued elements are left out of the response.

#include <string_view>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/projection.h"

namespace scim::service {

// schema::ParseSelection, and every value filter parsed and bound for `type` (errors inside the
// brackets are kInvalidFilter, a bad path kInvalidPath).
Result<schema::AttributeSelection> ParseAttributeSelection(const schema::Registry& registry,
                                                           const schema::ResourceType& type,
                                                           std::string_view attributes,
                                                           std::string_view excluded);

// Removes from `resource` the elements of value-filtered attributes that no filter of
// `selection` for that attribute selects (an element stays when any of them selects it). Call
// before schema::Project. Filters that do not bind (ParseAttributeSelection has refused them) are
// ignored.
void ApplyValueFilters(const schema::Registry& registry, const schema::ResourceType& type,
                       const schema::AttributeSelection& selection, json::Value& resource,
                       json::Allocator& alloc);

}  // namespace scim::service
