#include "store/resource_rows.h"

#include <cstdio>

#include "scim/common/strings.h"
#include "store/filter_sql.h"

namespace scim::store {
namespace {

using schema::Attribute;
using schema::AttributeType;

const char* kOwnStorage[] = {"id", "externalId", "userName", "displayName", "active", "meta",
                             "members", "groups", "password", "schemas"};

std::optional<std::string> StringMember(const json::Value& resource, const char* name) {
  auto it = resource.FindMember(name);
  if (it == resource.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(json::View(it->value));
}

std::string FormatNumber(const json::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v.GetDouble());
  return buf;
}

// Appends the row for one leaf value; values of other JSON types than the schema says are skipped
// (the validator has rejected them before they reach the store).
void AddLeaf(const json::Value& v, const std::string& path, int ord, std::vector<AttrValueRow>& rows) {
  AttrValueRow row{path, ord, "", "", std::nullopt, std::nullopt};
  if (v.IsString()) {
    row.value = std::string(json::View(v));
  } else if (v.IsBool()) {
    row.value = v.GetBool() ? "true" : "false";
  } else if (v.IsNumber()) {
    row.value = FormatNumber(v);
    row.num = v.GetDouble();
  } else {
    return;
  }
  IndexedFold fold = IndexedValueFold(row.value);
  row.value_lc = std::move(fold.lc);
  row.value_lc_full = std::move(fold.full);
  rows.push_back(std::move(row));
}

void AddComplex(const Attribute& attr, const json::Value& element, const std::string& prefix,
                int ord, std::vector<AttrValueRow>& rows) {
  if (!element.IsObject()) return;
  for (const Attribute& sub : attr.sub_attributes) {
    auto it = element.FindMember(sub.name.c_str());
    if (it == element.MemberEnd()) continue;
    std::string path = prefix + "." + ToLower(sub.name);
    if (it->value.IsArray()) {
      for (const auto& item : it->value.GetArray()) AddLeaf(item, path, ord, rows);
    } else {
      AddLeaf(it->value, path, ord, rows);
    }
  }
}

void AddAttribute(const Attribute& attr, const json::Value& value, const std::string& path,
                  std::vector<AttrValueRow>& rows) {
  bool complex = attr.type == AttributeType::kComplex;
  if (attr.multi_valued && value.IsArray()) {
    int ord = 0;
    for (const auto& element : value.GetArray()) {
      if (complex) AddComplex(attr, element, path, ord, rows);
      else AddLeaf(element, path, ord, rows);
      ++ord;
    }
  } else if (complex) {
    AddComplex(attr, value, path, 0, rows);
  } else {
    AddLeaf(value, path, 0, rows);
  }
}

void AddSchemaAttributes(const schema::Schema& schema, const json::Value& object,
                         const std::string& prefix, bool core, std::vector<AttrValueRow>& rows) {
  for (const Attribute& attr : schema.attributes) {
    if (core && HasOwnStorage(attr.name)) continue;
    auto it = object.FindMember(attr.name.c_str());
    if (it == object.MemberEnd()) continue;
    AddAttribute(attr, it->value, prefix + ToLower(attr.name), rows);
  }
}

}  // namespace

bool HasOwnStorage(std::string_view attribute_name) {
  for (const char* name : kOwnStorage) {
    if (attribute_name == name) return true;
  }
  return false;
}

IndexedColumns ExtractColumns(const json::Value& resource) {
  IndexedColumns columns;
  columns.user_name = StringMember(resource, "userName");
  columns.external_id = StringMember(resource, "externalId");
  columns.display_name = StringMember(resource, "displayName");
  auto active = resource.FindMember("active");
  if (active != resource.MemberEnd() && active->value.IsBool()) {
    columns.active = active->value.GetBool() ? 1 : 0;
  }
  return columns;
}

std::vector<AttrValueRow> ExtractAttrValues(const schema::Registry& registry,
                                            const schema::ResourceType& type,
                                            const json::Value& resource) {
  std::vector<AttrValueRow> rows;
  if (const schema::Schema* core = registry.FindSchema(type.schema)) {
    AddSchemaAttributes(*core, resource, "", true, rows);
  }
  for (const auto& ext : type.extensions) {
    const schema::Schema* schema = registry.FindSchema(ext.schema);
    auto it = resource.FindMember(ext.schema.c_str());
    if (schema == nullptr || it == resource.MemberEnd() || !it->value.IsObject()) continue;
    AddSchemaAttributes(*schema, it->value, ToLower(ext.schema) + ":", false, rows);
  }
  return rows;
}

std::string StoredData(const json::Value& resource) {
  json::Document copy;
  copy.CopyFrom(resource, copy.GetAllocator());
  for (const char* name : {"id", "meta", "members", "groups", "password"}) {
    json::RemoveMemberCI(copy, name);
  }
  return json::Serialize(copy);
}

}  // namespace scim::store
