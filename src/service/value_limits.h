#pragma once
// The cap on values per multi-valued attribute (config limits.max_values_per_attribute): one
// User with 30,000 e-mails costs tens of megabytes of attr_values rows.

#include <cstdint>

#include "scim/common/json.h"
#include "scim/common/result.h"

namespace scim::service {

// kInvalidValue naming the attribute when a multi-valued attribute of `resource` (a normalized
// or patched resource, so every array in it is a multi-valued attribute) holds more than
// `max_values` values; also checks arrays inside complex values and extension objects. Exempt:
// the top-level "schemas", "members" (large groups stay supported) and "groups" (read-only, kept
// by the server). `max_values` <= 0 means no cap.
Status CheckValuesPerAttribute(const json::Value& resource, int64_t max_values);

}  // namespace scim::service
