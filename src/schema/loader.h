#pragma once
// Turns the JSON schema files (RFC 7643 §6, §7, §8.7) into Schema and ResourceType values.
// Private to the schema module: Registry's Load* functions are the public entry points.

#include <string>
#include <string_view>
#include <vector>

#include "scim/common/result.h"
#include "scim/schema/registry.h"

namespace scim::schema::internal {

// Collects schemas and resource types file by file, then checks them together. Every error is
// kInvalidValue and names the file (and the attribute or resource type) at fault.
class Loader {
 public:
  // Parses one file: a schema, a resource type, or an array of either. A schema is recognized by
  // its "attributes" member, a resource type by its "endpoint" member.
  Status AddFile(std::string_view file_name, std::string_view text);

  // Cross-file checks: unique schema URNs, unique resource type names and endpoints, and every
  // schema a resource type names must have been loaded.
  Status Finish();

  std::vector<Schema>& schemas() { return schemas_; }
  std::vector<ResourceType>& resource_types() { return resource_types_; }

 private:
  std::vector<Schema> schemas_;
  std::vector<std::string> schema_files_;
  std::vector<ResourceType> resource_types_;
  std::vector<std::string> resource_type_files_;
};

}  // namespace scim::schema::internal
