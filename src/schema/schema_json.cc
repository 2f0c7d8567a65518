// Registry::SchemaToJson / ResourceTypeToJson: the representations served by /Schemas
// (RFC 7643 §7, §8.7.1) and /ResourceTypes (RFC 7643 §6, §8.7.2).

#include "scim/schema/registry.h"

namespace scim::schema {
namespace {

constexpr std::string_view kSchemaSchema = "urn:ietf:params:scim:schemas:core:2.0:Schema";
constexpr std::string_view kResourceTypeSchema =
    "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

void AddString(json::Value& obj, const char* key, std::string_view value, json::Allocator& alloc) {
  obj.AddMember(json::Value(key, alloc), json::String(value, alloc), alloc);
}

void AddStringArray(json::Value& obj, const char* key, const std::vector<std::string>& values,
                    json::Allocator& alloc) {
  json::Value array(rapidjson::kArrayType);
  for (const std::string& v : values) array.PushBack(json::String(v, alloc), alloc);
  obj.AddMember(json::Value(key, alloc), array, alloc);
}

void AddSchemas(json::Value& obj, std::string_view urn, json::Allocator& alloc) {
  json::Value schemas(rapidjson::kArrayType);
  schemas.PushBack(json::String(urn, alloc), alloc);
  obj.AddMember("schemas", schemas, alloc);
}

void AddMeta(json::Value& obj, const char* resource_type, const std::string& location,
             json::Allocator& alloc) {
  json::Value meta(rapidjson::kObjectType);
  AddString(meta, "resourceType", resource_type, alloc);
  AddString(meta, "location", location, alloc);
  obj.AddMember("meta", meta, alloc);
}

// One attribute with every characteristic of RFC 7643 §7; canonicalValues and referenceTypes
// only when the schema gives them, subAttributes only for complex attributes.
json::Value AttributeToJson(const Attribute& attr, json::Allocator& alloc) {
  json::Value out(rapidjson::kObjectType);
  AddString(out, "name", attr.name, alloc);
  AddString(out, "type", AttributeTypeName(attr.type), alloc);
  out.AddMember("multiValued", attr.multi_valued, alloc);
  AddString(out, "description", attr.description, alloc);
  out.AddMember("required", attr.required, alloc);
  out.AddMember("caseExact", attr.case_exact, alloc);
  if (!attr.canonical_values.empty()) {
    AddStringArray(out, "canonicalValues", attr.canonical_values, alloc);
  }
  if (!attr.reference_types.empty()) {
    AddStringArray(out, "referenceTypes", attr.reference_types, alloc);
  }
  AddString(out, "mutability", MutabilityName(attr.mutability), alloc);
  AddString(out, "returned", ReturnedName(attr.returned), alloc);
  AddString(out, "uniqueness", UniquenessName(attr.uniqueness), alloc);
  if (attr.type == AttributeType::kComplex) {
    json::Value subs(rapidjson::kArrayType);
    for (const Attribute& sub : attr.sub_attributes)
      subs.PushBack(AttributeToJson(sub, alloc), alloc);
    out.AddMember("subAttributes", subs, alloc);
  }
  return out;
}

}  // namespace

void Registry::SchemaToJson(const Schema& schema, const std::string& base_url, json::Value& out,
                            json::Allocator& alloc) const {
  out.SetObject();
  AddSchemas(out, kSchemaSchema, alloc);
  AddString(out, "id", schema.id, alloc);
  AddString(out, "name", schema.name, alloc);
  AddString(out, "description", schema.description, alloc);
  json::Value attributes(rapidjson::kArrayType);
  for (const Attribute& attr : schema.attributes) {
    attributes.PushBack(AttributeToJson(attr, alloc), alloc);
  }
  out.AddMember("attributes", attributes, alloc);
  AddMeta(out, "Schema", base_url + "/Schemas/" + schema.id, alloc);
}

void Registry::ResourceTypeToJson(const ResourceType& type, const std::string& base_url,
                                  json::Value& out, json::Allocator& alloc) const {
  out.SetObject();
  AddSchemas(out, kResourceTypeSchema, alloc);
  AddString(out, "id", type.id, alloc);
  AddString(out, "name", type.name, alloc);
  AddString(out, "endpoint", type.endpoint, alloc);
  AddString(out, "description", type.description, alloc);
  AddString(out, "schema", type.schema, alloc);
  if (!type.extensions.empty()) {
    json::Value extensions(rapidjson::kArrayType);
    for (const SchemaExtensionRef& ext : type.extensions) {
      json::Value item(rapidjson::kObjectType);
      AddString(item, "schema", ext.schema, alloc);
      item.AddMember("required", ext.required, alloc);
      extensions.PushBack(item, alloc);
    }
    out.AddMember("schemaExtensions", extensions, alloc);
  }
  AddMeta(out, "ResourceType", base_url + "/ResourceTypes/" + type.name, alloc);
}

}  // namespace scim::schema
