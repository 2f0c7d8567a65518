#include "schema/loader.h"

#include <array>
#include <cctype>
#include <utility>

#include "scim/common/json.h"
#include "scim/common/strings.h"

namespace scim::schema::internal {
namespace {

// Where a problem was found, for error details: "user.json: attribute 'emails.type'".
struct Context {
  std::string file;
  std::string what;

  Error Fail(const std::string& problem) const {
    std::string where = what.empty() ? file : file + ": " + what;
    return Error(ErrorCode::kInvalidValue, "schema file " + where + ": " + problem);
  }
};

Status ReadString(const json::Value& obj, std::string_view key, bool required, const Context& ctx,
                  std::string& out) {
  const json::Value* v = json::FindMemberCI(obj, key);
  if (v == nullptr || v->IsNull()) {
    if (required) return ctx.Fail("missing \"" + std::string(key) + "\"");
    return OkStatus();
  }
  if (!v->IsString()) return ctx.Fail("\"" + std::string(key) + "\" must be a string");
  out = std::string(json::View(*v));
  if (required && out.empty()) return ctx.Fail("\"" + std::string(key) + "\" must not be empty");
  return OkStatus();
}

Status ReadBool(const json::Value& obj, std::string_view key, const Context& ctx, bool& out) {
  const json::Value* v = json::FindMemberCI(obj, key);
  if (v == nullptr || v->IsNull()) return OkStatus();
  if (!v->IsBool()) return ctx.Fail("\"" + std::string(key) + "\" must be a boolean");
  out = v->GetBool();
  return OkStatus();
}

Status ReadStringArray(const json::Value& obj, std::string_view key, const Context& ctx,
                       std::vector<std::string>& out) {
  const json::Value* v = json::FindMemberCI(obj, key);
  if (v == nullptr || v->IsNull()) return OkStatus();
  if (!v->IsArray()) return ctx.Fail("\"" + std::string(key) + "\" must be an array of strings");
  for (const json::Value& item : v->GetArray()) {
    if (!item.IsString()) {
      return ctx.Fail("\"" + std::string(key) + "\" must be an array of strings");
    }
    out.emplace_back(json::View(item));
  }
  return OkStatus();
}

// Maps the string member `key` through `names` (matched case-insensitively) to an enum value.
template <class Enum, size_t N>
Status ReadEnum(const json::Value& obj, std::string_view key,
                const std::array<std::pair<const char*, Enum>, N>& names, const Context& ctx,
                Enum& out) {
  std::string text;
  SCIM_RETURN_IF_ERROR(ReadString(obj, key, /*required=*/false, ctx, text));
  if (text.empty()) return OkStatus();
  for (const auto& [name, value] : names) {
    if (EqualsIgnoreCase(text, name)) {
      out = value;
      return OkStatus();
    }
  }
  return ctx.Fail("unknown " + std::string(key) + " \"" + text + "\"");
}

constexpr std::array<std::pair<const char*, AttributeType>, 8> kTypeNames = {{
    {"string", AttributeType::kString},
    {"boolean", AttributeType::kBoolean},
    {"decimal", AttributeType::kDecimal},
    {"integer", AttributeType::kInteger},
    {"dateTime", AttributeType::kDateTime},
    {"reference", AttributeType::kReference},
    {"binary", AttributeType::kBinary},
    {"complex", AttributeType::kComplex},
}};
constexpr std::array<std::pair<const char*, Mutability>, 4> kMutabilityNames = {{
    {"readOnly", Mutability::kReadOnly},
    {"readWrite", Mutability::kReadWrite},
    {"immutable", Mutability::kImmutable},
    {"writeOnly", Mutability::kWriteOnly},
}};
constexpr std::array<std::pair<const char*, Returned>, 4> kReturnedNames = {{
    {"always", Returned::kAlways},
    {"never", Returned::kNever},
    {"default", Returned::kDefault},
    {"request", Returned::kRequest},
}};
constexpr std::array<std::pair<const char*, Uniqueness>, 3> kUniquenessNames = {{
    {"none", Uniqueness::kNone},
    {"server", Uniqueness::kServer},
    {"global", Uniqueness::kGlobal},
}};

// Attribute names are ATTRNAME of RFC 7643 §2.1: ALPHA *(nameChar), nameChar = "-" / "_" /
// DIGIT / ALPHA; "$ref" is the one reserved exception.
bool IsValidAttributeName(std::string_view name) {
  if (name == "$ref") return true;
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

Status ReadAttribute(const json::Value& obj, const std::string& file,
                     const std::string& parent_name, Attribute& out);

Status ReadSubAttributes(const json::Value& obj, const Context& ctx, Attribute& out) {
  const json::Value* subs = json::FindMemberCI(obj, "subAttributes");
  bool has_subs = subs != nullptr && !subs->IsNull();
  if (out.type != AttributeType::kComplex) {
    if (has_subs) return ctx.Fail("only complex attributes may have subAttributes");
    return OkStatus();
  }
  if (!has_subs || !subs->IsArray() || subs->Empty()) {
    return ctx.Fail("a complex attribute needs a non-empty \"subAttributes\" array");
  }
  for (const json::Value& item : subs->GetArray()) {
    Attribute sub;
    SCIM_RETURN_IF_ERROR(ReadAttribute(item, ctx.file, out.name, sub));
    if (out.FindSub(sub.name) != nullptr) {
      return ctx.Fail("duplicate sub-attribute \"" + sub.name + "\"");
    }
    out.sub_attributes.push_back(std::move(sub));
  }
  return OkStatus();
}

Status ReadCharacteristics(const json::Value& obj, const Context& ctx, Attribute& out) {
  SCIM_RETURN_IF_ERROR(ReadBool(obj, "multiValued", ctx, out.multi_valued));
  SCIM_RETURN_IF_ERROR(ReadBool(obj, "required", ctx, out.required));
  SCIM_RETURN_IF_ERROR(ReadBool(obj, "caseExact", ctx, out.case_exact));
  SCIM_RETURN_IF_ERROR(ReadEnum(obj, "mutability", kMutabilityNames, ctx, out.mutability));
  SCIM_RETURN_IF_ERROR(ReadEnum(obj, "returned", kReturnedNames, ctx, out.returned));
  SCIM_RETURN_IF_ERROR(ReadEnum(obj, "uniqueness", kUniquenessNames, ctx, out.uniqueness));
  SCIM_RETURN_IF_ERROR(ReadStringArray(obj, "canonicalValues", ctx, out.canonical_values));
  SCIM_RETURN_IF_ERROR(ReadStringArray(obj, "referenceTypes", ctx, out.reference_types));
  return ReadString(obj, "description", /*required=*/false, ctx, out.description);
}

// Reads one attribute definition (RFC 7643 §7 "attributes"); `parent_name` is empty for a
// top-level attribute. Complex attributes may not nest (RFC 7643 §2.3.8: a sub-attribute cannot
// itself have sub-attributes).
Status ReadAttribute(const json::Value& obj, const std::string& file,
                     const std::string& parent_name, Attribute& out) {
  bool is_sub = !parent_name.empty();
  Context outer{file, is_sub ? "attribute '" + parent_name + "'" : ""};
  if (!obj.IsObject()) return outer.Fail("an attribute must be a JSON object");
  SCIM_RETURN_IF_ERROR(ReadString(obj, "name", /*required=*/true, outer, out.name));
  Context ctx{file, "attribute '" + (is_sub ? parent_name + "." : "") + out.name + "'"};
  if (!IsValidAttributeName(out.name)) return ctx.Fail("not a valid attribute name");
  if (json::FindMemberCI(obj, "type") == nullptr) return ctx.Fail("missing \"type\"");
  SCIM_RETURN_IF_ERROR(ReadEnum(obj, "type", kTypeNames, ctx, out.type));
  if (is_sub && out.type == AttributeType::kComplex) {
    return ctx.Fail("a sub-attribute cannot be complex (RFC 7643 §2.3.8)");
  }
  SCIM_RETURN_IF_ERROR(ReadCharacteristics(obj, ctx, out));
  return ReadSubAttributes(obj, ctx, out);
}

Status ReadSchema(const json::Value& obj, const Context& file, Schema& out) {
  SCIM_RETURN_IF_ERROR(ReadString(obj, "id", /*required=*/true, file, out.id));
  Context ctx{file.file, "schema '" + out.id + "'"};
  SCIM_RETURN_IF_ERROR(ReadString(obj, "name", false, ctx, out.name));
  SCIM_RETURN_IF_ERROR(ReadString(obj, "description", false, ctx, out.description));
  const json::Value* attrs = json::FindMemberCI(obj, "attributes");
  if (attrs == nullptr || !attrs->IsArray()) return ctx.Fail("\"attributes\" must be an array");
  for (const json::Value& item : attrs->GetArray()) {
    Attribute attr;
    SCIM_RETURN_IF_ERROR(ReadAttribute(item, ctx.file, "", attr));
    if (out.FindAttribute(attr.name) != nullptr) {
      return ctx.Fail("duplicate attribute \"" + attr.name + "\"");
    }
    out.attributes.push_back(std::move(attr));
  }
  return OkStatus();
}

Status ReadToleratedSchemas(const json::Value& obj, const Context& ctx, ResourceType& out) {
  const json::Value* tolerated = json::FindMemberCI(obj, "x-scimdToleratedSchemas");
  if (tolerated == nullptr) return OkStatus();
  if (!tolerated->IsArray()) return ctx.Fail("\"x-scimdToleratedSchemas\" must be an array");
  for (const json::Value& urn : tolerated->GetArray()) {
    if (!urn.IsString()) return ctx.Fail("\"x-scimdToleratedSchemas\" must hold strings");
    out.tolerated_schemas.emplace_back(json::View(urn));
  }
  return OkStatus();
}

Status ReadExtensions(const json::Value& obj, const Context& ctx, ResourceType& out) {
  const json::Value* exts = json::FindMemberCI(obj, "schemaExtensions");
  if (exts == nullptr || exts->IsNull()) return OkStatus();
  if (!exts->IsArray()) return ctx.Fail("\"schemaExtensions\" must be an array");
  for (const json::Value& item : exts->GetArray()) {
    if (!item.IsObject()) return ctx.Fail("each schemaExtensions entry must be an object");
    SchemaExtensionRef ref;
    SCIM_RETURN_IF_ERROR(ReadString(item, "schema", /*required=*/true, ctx, ref.schema));
    SCIM_RETURN_IF_ERROR(ReadBool(item, "required", ctx, ref.required));
    out.extensions.push_back(std::move(ref));
  }
  return ReadToleratedSchemas(obj, ctx, out);
}

// RFC 7643 §6: name, endpoint and schema are required; id defaults to the name.
Status ReadResourceType(const json::Value& obj, const Context& file, ResourceType& out) {
  SCIM_RETURN_IF_ERROR(ReadString(obj, "name", /*required=*/true, file, out.name));
  Context ctx{file.file, "resource type '" + out.name + "'"};
  SCIM_RETURN_IF_ERROR(ReadString(obj, "id", false, ctx, out.id));
  if (out.id.empty()) out.id = out.name;
  SCIM_RETURN_IF_ERROR(ReadString(obj, "endpoint", /*required=*/true, ctx, out.endpoint));
  if (out.endpoint[0] != '/') return ctx.Fail("\"endpoint\" must start with '/'");
  SCIM_RETURN_IF_ERROR(ReadString(obj, "description", false, ctx, out.description));
  SCIM_RETURN_IF_ERROR(ReadString(obj, "schema", /*required=*/true, ctx, out.schema));
  return ReadExtensions(obj, ctx, out);
}

bool SameUrn(const std::string& a, const std::string& b) { return EqualsIgnoreCase(a, b); }

}  // namespace

Status Loader::AddFile(std::string_view file_name, std::string_view text) {
  Context ctx{std::string(file_name), ""};
  json::Document doc;
  Status parsed = json::Parse(text, doc);
  if (!parsed.ok()) return ctx.Fail(parsed.error().detail);
  if (!doc.IsObject() && !doc.IsArray()) return ctx.Fail("expected a JSON object or array");
  std::vector<const json::Value*> items;
  if (doc.IsObject()) {
    items.push_back(&doc);
  } else {
    for (const json::Value& item : doc.GetArray()) items.push_back(&item);
  }
  for (const json::Value* item : items) {
    if (!item->IsObject()) return ctx.Fail("array entries must be JSON objects");
    if (json::FindMemberCI(*item, "attributes") != nullptr) {
      Schema schema;
      SCIM_RETURN_IF_ERROR(ReadSchema(*item, ctx, schema));
      schemas_.push_back(std::move(schema));
      schema_files_.push_back(ctx.file);
    } else if (json::FindMemberCI(*item, "endpoint") != nullptr) {
      ResourceType type;
      SCIM_RETURN_IF_ERROR(ReadResourceType(*item, ctx, type));
      resource_types_.push_back(std::move(type));
      resource_type_files_.push_back(ctx.file);
    } else {
      return ctx.Fail("neither a schema (no \"attributes\") nor a resource type (no \"endpoint\")");
    }
  }
  return OkStatus();
}

Status Loader::Finish() {
  for (size_t i = 0; i < schemas_.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (SameUrn(schemas_[i].id, schemas_[j].id)) {
        return Context{schema_files_[i], ""}.Fail("schema '" + schemas_[i].id +
                                                  "' is also defined in " + schema_files_[j]);
      }
    }
  }
  auto known = [this](const std::string& urn) {
    for (const Schema& s : schemas_) {
      if (SameUrn(s.id, urn)) return true;
    }
    return false;
  };
  for (size_t i = 0; i < resource_types_.size(); ++i) {
    const ResourceType& type = resource_types_[i];
    Context ctx{resource_type_files_[i], "resource type '" + type.name + "'"};
    for (size_t j = 0; j < i; ++j) {
      if (EqualsIgnoreCase(type.name, resource_types_[j].name) ||
          EqualsIgnoreCase(type.endpoint, resource_types_[j].endpoint)) {
        return ctx.Fail("name or endpoint also used in " + resource_type_files_[j]);
      }
    }
    if (!known(type.schema)) return ctx.Fail("unknown schema '" + type.schema + "'");
    for (const SchemaExtensionRef& ext : type.extensions) {
      if (!known(ext.schema)) return ctx.Fail("unknown extension schema '" + ext.schema + "'");
      if (SameUrn(ext.schema, type.schema)) return ctx.Fail("core schema listed as extension");
    }
  }
  return OkStatus();
}

}  // namespace scim::schema::internal
