#pragma once
// Mapping between a SCIM resource (JSON) and its rows: the indexed columns of `resources` and the
// `attr_values` rows that serve filters (layout in migrations/*/001_initial.sql).

#include <optional>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/schema/registry.h"

namespace scim::store {

// Columns of `resources` derived from the resource (empty when the attribute is absent).
struct IndexedColumns {
  std::optional<std::string> user_name;
  std::optional<std::string> external_id;
  std::optional<std::string> display_name;
  std::optional<int> active;
};

// One leaf value of an attribute without its own column.
struct AttrValueRow {
  std::string path;  // lower-cased qualified name ("emails.value", "urn:...:user:employeenumber")
  int ord = 0;       // element index in a multi-valued attribute
  std::string value;
  std::string value_lc;                      // IndexedValueFold(value).lc
  std::optional<std::string> value_lc_full;  // IndexedValueFold(value).full
  std::optional<double> num;
};

IndexedColumns ExtractColumns(const json::Value& resource);

// Every leaf value the filter compiler looks up in attr_values, walking the resource by its
// schemas (core attributes at top level, extension attributes under their URN).
std::vector<AttrValueRow> ExtractAttrValues(const schema::Registry& registry,
                                            const schema::ResourceType& type,
                                            const json::Value& resource);

// The JSON kept in resources.data: the resource without id, meta, members, groups and password.
std::string StoredData(const json::Value& resource);

// Whether a top-level core attribute is kept in a column (or elsewhere) instead of attr_values.
bool HasOwnStorage(std::string_view attribute_name);

}  // namespace scim::store
