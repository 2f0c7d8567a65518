#include "schema/value_rules.h"

#include <set>

#include "scim/common/clock.h"
#include "scim/common/strings.h"
#include "scim/schema/validator.h"

namespace scim::schema::internal {
namespace {

Error Invalid(const std::string& path, const std::string& problem) {
  return Error(ErrorCode::kInvalidValue, "attribute '" + path + "': " + problem);
}

Error TypeMismatch(const Attribute& attr, const std::string& path) {
  return Invalid(path, std::string("expected type ") + AttributeTypeName(attr.type));
}

// canonicalValues are matched case-insensitively and stored in the schema's spelling.
Status ApplyCanonical(const Attribute& attr, const std::string& path, bool enforce,
                      json::Value& value, json::Allocator& alloc) {
  if (!enforce || attr.canonical_values.empty() || !value.IsString()) return OkStatus();
  for (const std::string& canonical : attr.canonical_values) {
    if (EqualsIgnoreCase(canonical, json::View(value))) {
      value = json::String(canonical, alloc);
      return OkStatus();
    }
  }
  std::string allowed;
  for (const std::string& c : attr.canonical_values) allowed += (allowed.empty() ? "" : ", ") + c;
  return Invalid(path, "\"" + std::string(json::View(value)) + "\" is not one of: " + allowed);
}

// Entra ID sends booleans as "True"/"False" strings; they are converted.
Status NormalizeBoolean(const Attribute& attr, const json::Value& in, const std::string& path,
                        json::Value& out) {
  if (in.IsBool()) {
    out.SetBool(in.GetBool());
  } else if (in.IsString() && EqualsIgnoreCase(json::View(in), "true")) {
    out.SetBool(true);
  } else if (in.IsString() && EqualsIgnoreCase(json::View(in), "false")) {
    out.SetBool(false);
  } else {
    return TypeMismatch(attr, path);
  }
  return OkStatus();
}

Status NormalizeDateTime(const Attribute& attr, const json::Value& in, const std::string& path,
                         json::Allocator& alloc, json::Value& out) {
  if (!in.IsString()) return TypeMismatch(attr, path);
  SCIM_RETURN_IF_ERROR(CheckStringLength(in, path));
  std::optional<std::string> normalized = NormalizeTimestamp(json::View(in));
  if (!normalized) return Invalid(path, "not a valid dateTime (RFC 7643 §2.3.5)");
  out = json::String(*normalized, alloc);
  return OkStatus();
}

// A value of a simple (non-complex) type. string, reference and binary are JSON strings.
Status NormalizeSimple(const Attribute& attr, const json::Value& in, const std::string& path,
                       bool enforce_canonical, json::Allocator& alloc, json::Value& out) {
  switch (attr.type) {
    case AttributeType::kBoolean:
      return NormalizeBoolean(attr, in, path, out);
    case AttributeType::kInteger:
      if (!in.IsInt64()) return TypeMismatch(attr, path);
      out.SetInt64(in.GetInt64());
      return OkStatus();
    case AttributeType::kDecimal:
      if (!in.IsNumber()) return TypeMismatch(attr, path);
      out.CopyFrom(in, alloc);
      return OkStatus();
    case AttributeType::kDateTime:
      return NormalizeDateTime(attr, in, path, alloc, out);
    case AttributeType::kString:
    case AttributeType::kReference:
    case AttributeType::kBinary:
    case AttributeType::kComplex:
      break;
  }
  if (!in.IsString()) return TypeMismatch(attr, path);
  SCIM_RETURN_IF_ERROR(CheckStringLength(in, path));
  out.CopyFrom(in, alloc);
  return ApplyCanonical(attr, path, enforce_canonical, out, alloc);
}

bool IsBlank(const json::Value& v) { return v.IsString() && Trim(json::View(v)).empty(); }

Status CheckRequiredSubs(const Attribute& attr, const json::Value& object,
                         const std::string& path) {
  for (const Attribute& sub : attr.sub_attributes) {
    if (!sub.required || sub.mutability == Mutability::kReadOnly) continue;
    const json::Value* v = json::FindMemberCI(object, sub.name);
    if (v == nullptr || IsBlank(*v)) {
      return Invalid(path + "." + sub.name, "required sub-attribute is missing or empty");
    }
  }
  return OkStatus();
}

Status NormalizeValue(const Attribute& attr, const json::Value& in, const std::string& path,
                      bool enforce_canonical, json::Allocator& alloc, json::Value& out);

// RFC 7643 §2.4: the sub-attribute "type" of a multi-valued attribute has canonical values that
// clients SHOULD use, and real clients send their own labels ("work2", "mobile-2"), so those
// values are not enforced (nor re-spelled). Other canonicalValues are enforced.
bool EnforcesCanonical(const Attribute& parent, const Attribute& sub) {
  return !(parent.multi_valued && EqualsIgnoreCase(sub.name, "type"));
}

Status NormalizeComplex(const Attribute& attr, const json::Value& in, const std::string& path,
                        json::Allocator& alloc, json::Value& out) {
  if (!attr.multi_valued && !in.IsObject() && !in.IsArray() && !in.IsNull() &&
      attr.FindSub("value") != nullptr) {
    // Entra ID sends the Enterprise manager as the manager's id alone: {"value": id}.
    json::Value wrapped(rapidjson::kObjectType);
    wrapped.AddMember("value", json::Value(in, alloc), alloc);
    return NormalizeComplex(attr, wrapped, path, alloc, out);
  }
  if (!in.IsObject()) return Invalid(path, "expected a complex value (JSON object)");
  out.SetObject();
  std::set<std::string> seen;
  for (auto it = in.MemberBegin(); it != in.MemberEnd(); ++it) {
    std::string sub_path = path + "." + std::string(json::View(it->name));
    const Attribute* sub = attr.FindSub(json::View(it->name));
    if (sub == nullptr) {
      return Error(ErrorCode::kInvalidSyntax, "unknown attribute '" + sub_path + "'");
    }
    if (!seen.insert(ToLower(sub->name)).second) {
      return Error(ErrorCode::kInvalidSyntax,
                   "attribute '" + path + "." + sub->name + "' given more than once");
    }
    if (sub->mutability == Mutability::kReadOnly) continue;  // RFC 7644 §3.5.1: ignored
    json::Value value;
    SCIM_RETURN_IF_ERROR(NormalizeValue(*sub, it->value, path + "." + sub->name,
                                        EnforcesCanonical(attr, *sub), alloc, value));
    if (!value.IsNull()) out.AddMember(json::String(sub->name, alloc), value, alloc);
  }
  if (out.MemberCount() == 0) {
    out.SetNull();
    return OkStatus();
  }
  return CheckRequiredSubs(attr, out, path);
}

Status NormalizeOne(const Attribute& attr, const json::Value& in, const std::string& path,
                    bool enforce_canonical, json::Allocator& alloc, json::Value& out) {
  if (in.IsNull()) {
    out.SetNull();
    return OkStatus();
  }
  if (attr.type == AttributeType::kComplex) return NormalizeComplex(attr, in, path, alloc, out);
  return NormalizeSimple(attr, in, path, enforce_canonical, alloc, out);
}

bool IsPrimary(const json::Value& item) {
  const json::Value* primary = json::FindMemberCI(item, "primary");
  return primary != nullptr && primary->IsBool() && primary->GetBool();
}

// RFC 7643 §2.4: a single value is accepted and wrapped; null items are skipped; at most one
// item may be primary.
Status NormalizeMulti(const Attribute& attr, const json::Value& in, const std::string& path,
                      bool enforce_canonical, json::Allocator& alloc, json::Value& out) {
  out.SetArray();
  auto add = [&](const json::Value& item) -> Status {
    if (item.IsArray()) return Invalid(path, "nested arrays are not allowed");
    json::Value value;
    SCIM_RETURN_IF_ERROR(NormalizeOne(attr, item, path, enforce_canonical, alloc, value));
    if (!value.IsNull()) out.PushBack(value, alloc);
    return OkStatus();
  };
  if (in.IsArray()) {
    for (const json::Value& item : in.GetArray()) SCIM_RETURN_IF_ERROR(add(item));
  } else {
    SCIM_RETURN_IF_ERROR(add(in));
  }
  int primaries = 0;
  for (const json::Value& item : out.GetArray()) primaries += IsPrimary(item) ? 1 : 0;
  if (primaries > 1) return Invalid(path, "more than one value has \"primary\": true");
  if (out.Empty()) out.SetNull();
  return OkStatus();
}

Status NormalizeValue(const Attribute& attr, const json::Value& in, const std::string& path,
                      bool enforce_canonical, json::Allocator& alloc, json::Value& out) {
  if (attr.multi_valued) return NormalizeMulti(attr, in, path, enforce_canonical, alloc, out);
  if (in.IsArray() && in.Size() == 1 && attr.type == schema::AttributeType::kComplex) {
    // Entra ID's legacy form of a singular complex value: a one-element array.
    return NormalizeOne(attr, in[0], path, enforce_canonical, alloc, out);
  }
  if (in.IsArray()) return Invalid(path, "single-valued; an array is not allowed");
  return NormalizeOne(attr, in, path, enforce_canonical, alloc, out);
}

}  // namespace

Status CheckStringLength(const json::Value& v, const std::string& path) {
  if (v.IsString() && v.GetStringLength() > kMaxStringBytes) return Invalid(path, "value too long");
  return OkStatus();
}

Status NormalizeAttributeValue(const Attribute& attr, const json::Value& in,
                               const std::string& path, json::Allocator& alloc, json::Value& out) {
  return NormalizeValue(attr, in, path, /*enforce_canonical=*/true, alloc, out);
}

}  // namespace scim::schema::internal
