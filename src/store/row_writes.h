#pragma once
// The row writes of a create, replace or delete, inside the caller's transaction: the resources
// row, its attr_values rows (a replace rewrites only the rows that changed) and the resource count.

#include <soci/soci.h>

#include <optional>
#include <string>

#include "scim/common/json.h"
#include "scim/schema/registry.h"
#include "scim/store/database.h"

namespace scim::store {

struct StoredRow;

// Inserts or updates the resource row and rewrites its attr_values rows; an insert adds 1 to the
// resource count (resource_counts.h).
void WriteResourceRows(soci::session& s, Dialect dialect, const schema::Registry& registry,
                       const schema::ResourceType& type, const std::string& tenant,
                       const StoredRow& row, const json::Value& resource,
                       const std::optional<std::string>& password_hash, bool insert);

// Deletes the resource row and its attr_values rows and takes 1 from the resource count.
void DeleteResourceRows(soci::session& s, Dialect dialect, const std::string& tenant,
                        const std::string& resource_type, const std::string& id);

}  // namespace scim::store
