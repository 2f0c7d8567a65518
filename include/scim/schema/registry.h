#pragma once
// The schema registry: schemas and resource types loaded from JSON (scim-schemas/*.json, compiled
// into the binary or read from a directory). Immutable after Load; safe to share across threads.
// It knows nothing of HTTP or SQL.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/attribute.h"

namespace scim::schema {

inline constexpr std::string_view kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr std::string_view kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr std::string_view kEnterpriseUserSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr std::string_view kScimdGroupSchema =
    "urn:scimd:params:scim:schemas:extension:2.0:Group";
inline constexpr std::string_view kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr std::string_view kListResponseSchema =
    "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr std::string_view kPatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr std::string_view kSearchRequestSchema =
    "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
inline constexpr std::string_view kBulkRequestSchema =
    "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
inline constexpr std::string_view kBulkResponseSchema =
    "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

// A schema (RFC 7643 §7): its URN id, name and top-level attributes.
struct Schema {
  std::string id;
  std::string name;
  std::string description;
  std::vector<Attribute> attributes;

  const Attribute* FindAttribute(std::string_view name) const;  // case-insensitive
};

struct SchemaExtensionRef {
  std::string schema;  // URN
  bool required = false;
};

// A resource type (RFC 7643 §6): "User" at "/Users" with core schema and extensions.
struct ResourceType {
  std::string id;        // "User"
  std::string name;      // "User"
  std::string endpoint;  // "/Users"
  std::string description;
  std::string schema;  // core schema URN
  std::vector<SchemaExtensionRef> extensions;
  // Schema URNs that clients list in `schemas` although they define nothing scimd stores (Entra
  // ID sends Microsoft's ADSCIM Group URN): accepted and dropped on input, never advertised.
  // From the non-standard "x-scimdToleratedSchemas" key of resource_types.json.
  std::vector<std::string> tolerated_schemas;
};

// The common attributes of RFC 7643 §3.1 (id, externalId, meta and its sub-attributes), which no
// schema lists but every resource has. Looked up by ResolvePath like any other attribute.
const Attribute& CommonAttribute(std::string_view name);  // asserts the name is one of them
const Attribute* FindCommonAttribute(std::string_view name);

// An attribute path resolved against a resource type: "name.familyName",
// "urn:...:enterprise:2.0:User:manager.value", "emails.value", "meta.lastModified".
struct ResolvedPath {
  std::string schema_urn;             // the schema that defines it ("" for common attributes)
  const Attribute* attribute = nullptr;      // top-level attribute
  const Attribute* sub_attribute = nullptr;  // set when the path names a sub-attribute
  bool is_common = false;             // id, externalId, meta.*
  bool in_extension = false;          // schema_urn is an extension of the resource type

  // The attribute the path ends at (sub_attribute if set, else attribute).
  const Attribute& Leaf() const { return sub_attribute ? *sub_attribute : *attribute; }
  // Canonical dotted name without URN: "name.familyName", "emails.value", "employeeNumber".
  std::string CanonicalName() const;
  // Canonical path with URN prefix for extension attributes ("urn:...:User:manager.value"),
  // without it for core and common attributes.
  std::string QualifiedName() const;
};

class Registry {
 public:
  // Loads the schemas embedded at build time (scim-schemas/*.json).
  static Result<std::shared_ptr<const Registry>> LoadEmbedded();
  // Loads every *.json file of `directory` (for tests and custom deployments).
  static Result<std::shared_ptr<const Registry>> LoadDirectory(const std::string& directory);
  // Loads from (file name, JSON text) pairs. A file holds one schema, one resource type, or an
  // array of either (RFC 7643 §8.7 representations).
  static Result<std::shared_ptr<const Registry>> LoadFromTexts(
      const std::vector<std::pair<std::string, std::string>>& files);

  const Schema* FindSchema(std::string_view urn) const;  // case-insensitive URN
  const ResourceType* FindResourceType(std::string_view name) const;  // "User" / "Group"
  const ResourceType* FindResourceTypeByEndpoint(std::string_view endpoint) const;  // "/Users"
  const std::vector<Schema>& schemas() const { return schemas_; }
  const std::vector<ResourceType>& resource_types() const { return resource_types_; }

  // Every schema a resource type allows: core first, then extensions.
  std::vector<const Schema*> SchemasOf(const ResourceType& type) const;

  // Resolves an attribute path (no value filter) against a resource type, case-insensitively.
  // Accepts an optional schema URN prefix ("urn:...:User:userName", "urn:...:enterprise:2.0:User:
  // manager.value"). Errors: kInvalidPath (or kInvalidFilter when `for_filter`) naming the path.
  Result<ResolvedPath> ResolvePath(const ResourceType& type, std::string_view path,
                                   bool for_filter = false) const;

  // RFC 7643 §8.7.1 / §8.7.2 representations, for GET /Schemas and /ResourceTypes.
  // `base_url` is the SCIM root used for meta.location (e.g. "http://host/scim/v2").
  void SchemaToJson(const Schema& schema, const std::string& base_url, json::Value& out,
                    json::Allocator& alloc) const;
  void ResourceTypeToJson(const ResourceType& type, const std::string& base_url, json::Value& out,
                          json::Allocator& alloc) const;

 private:
  std::vector<Schema> schemas_;
  std::vector<ResourceType> resource_types_;
};

}  // namespace scim::schema
