// Client dialects beyond the letter of RFC 7644: Entra ID's value forms and path-less values
// keyed by paths or extension schema URNs.

#include "patch/dialect.h"

#include "patch/operation.h"
#include "scim/common/strings.h"

namespace scim::patch::internal {

using schema::Attribute;
using schema::AttributeType;

const json::Value* UnwrapLegacyArray(const Attribute& attr, const json::Value& in) {
  if (!in.IsArray() || in.Size() != 1) return nullptr;
  const json::Value& only = in[0];
  if (only.IsObject() && only.MemberCount() == 1 && json::FindMemberCI(only, "value") &&
      attr.type != AttributeType::kComplex) {
    return json::FindMemberCI(only, "value");
  }
  if (!only.IsObject() && !only.IsArray()) return &only;
  if (only.IsObject() && attr.type == AttributeType::kComplex) return &only;  // [{"value": id}]
  return nullptr;
}

std::optional<bool> LenientBoolean(const json::Value& in) {
  if (in.IsBool()) return in.GetBool();
  if (in.IsString() && EqualsIgnoreCase(json::View(in), "true")) return true;
  if (in.IsString() && EqualsIgnoreCase(json::View(in), "false")) return false;
  return std::nullopt;
}

bool IsBareComplexValue(const Attribute& attr, const json::Value& in) {
  return attr.FindSub("value") != nullptr && !attr.multi_valued &&
         (in.IsString() || in.IsNumber() || in.IsBool());
}

namespace {

// The core schema or an extension schema of the resource type named exactly by `urn`.
const schema::Schema* SchemaOfType(const schema::Registry& registry,
                                   const schema::ResourceType& type, std::string_view urn) {
  if (!StartsWithIgnoreCase(urn, "urn:")) return nullptr;
  for (const schema::Schema* s : registry.SchemasOf(type)) {
    if (s != nullptr && EqualsIgnoreCase(s->id, urn)) return s;
  }
  return nullptr;
}

// The attributes of a schema given as {"urn:...": {attributes}}, each as "urn:...:attribute".
Status ForEachSchemaAttribute(const schema::Schema& s, const std::string& key,
                              const json::Value& value, const PathlessApply& apply) {
  if (!value.IsObject()) {
    return InvalidValue("the value of \"" + key + "\" must be an object of its attributes");
  }
  for (auto inner = value.MemberBegin(); inner != value.MemberEnd(); ++inner) {
    SCIM_RETURN_IF_ERROR(apply(s.id + ":" + std::string(json::View(inner->name)), &inner->value));
  }
  return OkStatus();
}

}  // namespace

Status ForEachPathless(const schema::Registry& registry, const schema::ResourceType& type,
                       const char* op_name, const json::Value& value, const PathlessApply& apply) {
  if (!value.IsObject()) {
    return InvalidValue(std::string(op_name) +
                        " without a path needs an object of attributes as its value");
  }
  for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
    std::string key(json::View(it->name));
    // `schemas` is maintained by the server from the attributes present.
    if (EqualsIgnoreCase(key, "schemas")) continue;
    if (const schema::Schema* s = SchemaOfType(registry, type, key)) {
      SCIM_RETURN_IF_ERROR(ForEachSchemaAttribute(*s, key, it->value, apply));
    } else {
      SCIM_RETURN_IF_ERROR(apply(key, &it->value));
    }
  }
  return OkStatus();
}

}  // namespace scim::patch::internal
