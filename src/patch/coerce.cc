// Value coercion of the PATCH engine: client values checked against attribute definitions and
// returned in canonical form.

#include "patch/coerce.h"

#include "patch/dialect.h"
#include "patch/json_values.h"
#include "patch/operation.h"
#include "scim/common/clock.h"
#include "scim/common/strings.h"

namespace scim::patch::internal {

using schema::Attribute;
using schema::AttributeType;
using schema::Mutability;

Result<json::Value> Coercer::Whole(const Attribute& attr, const json::Value& in,
                                   const std::string& where, const Attribute* parent) {
  bool read_only = attr.mutability == Mutability::kReadOnly;
  if (!attr.multi_valued) return Single(attr, in, where, read_only, parent);
  json::Value out(rapidjson::kArrayType);
  auto add = [&](const json::Value& element) -> Status {
    if (element.IsNull()) return OkStatus();
    SCIM_TRY(auto coerced, Single(attr, element, where, read_only, parent));
    out.PushBack(coerced, alloc_);
    return OkStatus();
  };
  if (in.IsArray()) {
    for (const auto& element : in.GetArray()) SCIM_RETURN_IF_ERROR(add(element));
  } else {
    SCIM_RETURN_IF_ERROR(add(in));
  }
  return out;
}

Result<json::Value> Coercer::Single(const Attribute& attr, const json::Value& in,
                                    const std::string& where, bool keep_read_only,
                                    const Attribute* parent) {
  if (!attr.multi_valued && in.IsArray()) {
    const json::Value* inner = UnwrapLegacyArray(attr, in);
    if (inner == nullptr) return InvalidValue(where + " is single-valued; an array was given");
    return Single(attr, *inner, where, keep_read_only, parent);
  }
  if (attr.type == AttributeType::kComplex) return Complex(attr, in, where, keep_read_only);
  return Simple(attr, in, where, parent);
}

Result<json::Value> Coercer::Simple(const Attribute& attr, const json::Value& in,
                                    const std::string& where, const Attribute* parent) {
  switch (attr.type) {
    case AttributeType::kString:
    case AttributeType::kReference:
    case AttributeType::kBinary:
      if (!in.IsString()) return InvalidValue(where + " must be a string");
      return Canonical(attr, parent, in);
    case AttributeType::kBoolean:
      if (auto b = LenientBoolean(in)) return json::Value(*b);
      return InvalidValue(where + " must be a boolean");
    case AttributeType::kInteger:
      if (in.IsInt64()) return json::Value(in.GetInt64());
      return InvalidValue(where + " must be an integer");
    case AttributeType::kDecimal:
      if (!in.IsNumber()) return InvalidValue(where + " must be a number");
      return json::Value(in, alloc_);
    case AttributeType::kDateTime: {
      if (!in.IsString()) return InvalidValue(where + " must be a dateTime string");
      auto normalized = NormalizeTimestamp(json::View(in));
      if (!normalized) return InvalidValue(where + " is not a valid dateTime");
      return json::String(*normalized, alloc_);
    }
    case AttributeType::kComplex:
      break;
  }
  return InvalidValue(where + ": unsupported attribute type");
}

// A string value in the schema's spelling when it matches one of the attribute's canonicalValues
// case-insensitively, as schema::NormalizeResource stores it (so a PATCH stores what a PUT of the
// same value would): not for the "type" of a multi-valued attribute, whose canonical values are
// only suggestions (RFC 7643 §2.4). A value matching none is kept as is; the final
// NormalizeResource check rejects it.
json::Value Coercer::Canonical(const Attribute& attr, const Attribute* parent,
                               const json::Value& in) {
  bool suggested_only =
      parent != nullptr && parent->multi_valued && EqualsIgnoreCase(attr.name, "type");
  if (!suggested_only) {
    for (const std::string& canonical : attr.canonical_values) {
      if (EqualsIgnoreCase(canonical, json::View(in))) return json::String(canonical, alloc_);
    }
  }
  return json::Value(in, alloc_);
}

Result<json::Value> Coercer::Complex(const Attribute& attr, const json::Value& in,
                                     const std::string& where, bool keep_read_only) {
  if (!in.IsObject()) {
    // Elements of multi-valued attributes must be objects.
    if (IsBareComplexValue(attr, in)) return BareComplex(attr, in, where, keep_read_only);
    return InvalidValue(where + " must be an object of sub-attributes");
  }
  json::Value out(rapidjson::kObjectType);
  for (auto it = in.MemberBegin(); it != in.MemberEnd(); ++it) {
    SCIM_RETURN_IF_ERROR(AddSub(attr, json::View(it->name), it->value, where, keep_read_only, out));
  }
  return out;
}

// Entra ID sends the enterprise `manager` (a singular complex attribute) as the bare id: it
// becomes {"value": id}.
Result<json::Value> Coercer::BareComplex(const Attribute& attr, const json::Value& in,
                                         const std::string& where, bool keep_read_only) {
  const Attribute* value_def = attr.FindSub("value");
  auto v = Single(*value_def, in, where + ".value", keep_read_only, &attr);
  if (!v.ok()) return v;
  json::Value out(rapidjson::kObjectType);
  out.AddMember(json::String(value_def->name, alloc_), *v, alloc_);
  return out;
}

// Coerces the sub-attribute `name` of a complex value into `out`.
Status Coercer::AddSub(const Attribute& attr, std::string_view name, const json::Value& value,
                       const std::string& where, bool keep_read_only, json::Value& out) {
  const Attribute* sub = attr.FindSub(name);
  if (sub == nullptr) {
    return InvalidValue(where + " has no sub-attribute \"" + std::string(name) + "\"");
  }
  if (value.IsNull()) return OkStatus();  // unassigned (RFC 7643 §2.5)
  // readOnly sub-attributes sent by clients are ignored (RFC 7643 §2.2), unless the whole
  // attribute is readOnly, in which case any change is refused later.
  if (sub->mutability == Mutability::kReadOnly && !keep_read_only) return OkStatus();
  std::string sub_where = where + "." + sub->name;
  SCIM_TRY(auto v, sub->multi_valued ? Whole(*sub, value, sub_where, &attr)
                                     : Single(*sub, value, sub_where, keep_read_only, &attr));
  SetMember(out, sub->name, v, alloc_);
  return OkStatus();
}

}  // namespace scim::patch::internal
