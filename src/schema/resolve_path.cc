// Registry::ResolvePath: attribute paths of RFC 7644 §3.10 (without value filters), resolved
// against one resource type's schemas.

#include "scim/common/strings.h"
#include "scim/schema/registry.h"

namespace scim::schema {
namespace {

// The parts of a path: optional schema URN, attribute, optional sub-attribute.
struct PathParts {
  std::string_view urn;
  std::string_view attribute;
  std::string_view sub;
  bool has_urn = false;
  bool has_sub = false;
};

// The URN is everything before the last ':' (attribute names contain no ':', RFC 7643 §2.1),
// so "urn:...:enterprise:2.0:User:manager.value" splits into the extension URN and
// "manager.value".
bool SplitPath(std::string_view path, PathParts& parts) {
  std::string_view rest = path;
  size_t colon = path.rfind(':');
  if (colon != std::string_view::npos) {
    parts.has_urn = true;
    parts.urn = path.substr(0, colon);
    rest = path.substr(colon + 1);
  }
  size_t dot = rest.find('.');
  parts.attribute = rest.substr(0, dot);
  if (dot != std::string_view::npos) {
    parts.has_sub = true;
    parts.sub = rest.substr(dot + 1);
    if (parts.sub.empty() || parts.sub.find('.') != std::string_view::npos) return false;
  }
  return !parts.attribute.empty();
}

class Resolver {
 public:
  Resolver(const Registry& registry, const ResourceType& type, std::string_view path,
           bool for_filter)
      : registry_(registry), type_(type), path_(path), for_filter_(for_filter) {}

  Result<ResolvedPath> Run() {
    for (const Schema* schema : registry_.SchemasOf(type_)) {
      if (EqualsIgnoreCase(schema->id, path_)) return Fail("a schema URN is not an attribute");
    }
    PathParts parts;
    if (!SplitPath(path_, parts)) return Fail("malformed attribute path");
    ResolvedPath out;
    SCIM_RETURN_IF_ERROR(parts.has_urn ? FindWithUrn(parts, out)
                                       : FindWithoutUrn(parts.attribute, out));
    if (parts.has_sub) SCIM_RETURN_IF_ERROR(FindSub(parts.sub, out));
    return out;
  }

 private:
  Error Fail(const std::string& why) const {
    return Error(for_filter_ ? ErrorCode::kInvalidFilter : ErrorCode::kInvalidPath,
                 why + " in attribute path '" + std::string(path_) + "'");
  }

  bool IsCore(const Schema& schema) const { return EqualsIgnoreCase(schema.id, type_.schema); }

  void SetSchemaAttribute(const Schema& schema, const Attribute& attr, ResolvedPath& out) const {
    out.schema_urn = schema.id;
    out.attribute = &attr;
    out.in_extension = !IsCore(schema);
  }

  // "urn:...:User:userName": the URN must be one of the type's schemas. Common attributes are
  // accepted under the core URN too ("urn:...:core:2.0:User:id").
  Status FindWithUrn(const PathParts& parts, ResolvedPath& out) const {
    for (const Schema* schema : registry_.SchemasOf(type_)) {
      if (!EqualsIgnoreCase(schema->id, parts.urn)) continue;
      if (const Attribute* attr = schema->FindAttribute(parts.attribute)) {
        SetSchemaAttribute(*schema, *attr, out);
        return OkStatus();
      }
      if (IsCore(*schema) && SetCommon(parts.attribute, out)) return OkStatus();
      return Fail("unknown attribute '" + std::string(parts.attribute) + "' of schema " +
                  schema->id);
    }
    return Fail("unknown schema '" + std::string(parts.urn) + "' for resource type " + type_.name);
  }

  bool SetCommon(std::string_view name, ResolvedPath& out) const {
    const Attribute* attr = FindCommonAttribute(name);
    if (attr == nullptr) return false;
    out.attribute = attr;
    out.is_common = true;
    return true;
  }

  // Without a URN: the core schema, then the common attributes, then the extensions (accepted
  // only when exactly one extension defines the name).
  Status FindWithoutUrn(std::string_view name, ResolvedPath& out) const {
    std::vector<const Schema*> schemas = registry_.SchemasOf(type_);
    if (!schemas.empty() && IsCore(*schemas[0])) {
      if (const Attribute* attr = schemas[0]->FindAttribute(name)) {
        SetSchemaAttribute(*schemas[0], *attr, out);
        return OkStatus();
      }
    }
    if (SetCommon(name, out)) return OkStatus();
    int matches = 0;
    for (const Schema* schema : schemas) {
      if (IsCore(*schema)) continue;
      if (const Attribute* attr = schema->FindAttribute(name)) {
        SetSchemaAttribute(*schema, *attr, out);
        ++matches;
      }
    }
    if (matches == 1) return OkStatus();
    if (matches > 1) {
      return Fail("ambiguous attribute '" + std::string(name) + "' (prefix it with a schema URN)");
    }
    return Fail("unknown attribute '" + std::string(name) + "' for resource type " + type_.name);
  }

  Status FindSub(std::string_view sub, ResolvedPath& out) const {
    if (out.attribute->type != AttributeType::kComplex) {
      return Fail("attribute '" + out.attribute->name + "' has no sub-attributes");
    }
    out.sub_attribute = out.attribute->FindSub(sub);
    if (out.sub_attribute == nullptr) {
      return Fail("unknown sub-attribute '" + std::string(sub) + "' of '" + out.attribute->name +
                  "'");
    }
    return OkStatus();
  }

  const Registry& registry_;
  const ResourceType& type_;
  std::string_view path_;
  bool for_filter_;
};

}  // namespace

Result<ResolvedPath> Registry::ResolvePath(const ResourceType& type, std::string_view path,
                                           bool for_filter) const {
  return Resolver(*this, type, path, for_filter).Run();
}

}  // namespace scim::schema
