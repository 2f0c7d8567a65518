#include "scim/schema/validator.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "schema/value_rules.h"
#include "scim/common/strings.h"

namespace scim::schema {
namespace {

Error Syntax(const std::string& detail) { return Error(ErrorCode::kInvalidSyntax, detail); }
Error Invalid(const std::string& detail) { return Error(ErrorCode::kInvalidValue, detail); }

// The normalized attributes of one schema of the resource (the core schema or an extension).
struct SchemaPart {
  const Schema* schema = nullptr;
  bool is_core = false;
  bool required = false;  // the resource type requires this extension
  json::Value object{rapidjson::kObjectType};
};

// One NormalizeResource call. The resource is built in `parts_` (one per schema of the resource
// type) and assembled into `out` at the end.
class Normalizer {
 public:
  Normalizer(const Registry& registry, const ResourceType& type, json::Document& out)
      : type_(type), out_(out), alloc_(out.GetAllocator()) {
    for (const Schema* schema : registry.SchemasOf(type)) {
      SchemaPart part;
      part.schema = schema;
      part.is_core = EqualsIgnoreCase(schema->id, type.schema);
      for (const SchemaExtensionRef& ext : type.extensions) {
        if (EqualsIgnoreCase(ext.schema, schema->id)) part.required = ext.required;
      }
      parts_.push_back(std::move(part));
    }
  }

  Status Run(const json::Value& input, WriteMode mode, const json::Value* existing) {
    if (!input.IsObject()) return Syntax("the resource must be a JSON object");
    if (parts_.empty() || !parts_[0].is_core) {
      return Error(ErrorCode::kInternal, "resource type " + type_.name + " has no core schema");
    }
    SCIM_RETURN_IF_ERROR(ReadSchemas(input));
    for (auto it = input.MemberBegin(); it != input.MemberEnd(); ++it) {
      SCIM_RETURN_IF_ERROR(AddMember(json::View(it->name), it->value));
    }
    SCIM_RETURN_IF_ERROR(CheckRequired());
    if (mode == WriteMode::kReplace && existing != nullptr && existing->IsObject()) {
      SCIM_RETURN_IF_ERROR(CheckImmutable(*existing));
    }
    Assemble();
    return OkStatus();
  }

 private:
  SchemaPart* FindPart(std::string_view urn) {
    for (SchemaPart& part : parts_) {
      if (EqualsIgnoreCase(part.schema->id, urn)) return &part;
    }
    return nullptr;
  }

  bool IsTolerated(std::string_view urn) const {
    for (const std::string& tolerated : type_.tolerated_schemas) {
      if (EqualsIgnoreCase(tolerated, urn)) return true;
    }
    return false;
  }

  void ListSchema(const SchemaPart& part) {
    for (const Schema* listed : listed_schemas_) {
      if (listed == part.schema) return;
    }
    listed_schemas_.push_back(part.schema);
  }

  // RFC 7643 §3: "schemas" lists the core schema and the extensions the resource uses.
  Status ReadSchemas(const json::Value& input) {
    const json::Value* schemas = json::FindMemberCI(input, "schemas");
    if (schemas == nullptr || !schemas->IsArray()) {
      return Syntax("\"schemas\" must be an array of schema URNs");
    }
    for (const json::Value& urn : schemas->GetArray()) {
      if (!urn.IsString()) return Syntax("\"schemas\" must be an array of schema URNs");
      if (IsTolerated(json::View(urn))) continue;
      SchemaPart* part = FindPart(json::View(urn));
      if (part == nullptr) {
        return Syntax("unknown schema \"" + std::string(json::View(urn).substr(0, 200)) +
                      "\" for resource type " + type_.name);
      }
      ListSchema(*part);
    }
    if (std::find(listed_schemas_.begin(), listed_schemas_.end(), parts_[0].schema) ==
        listed_schemas_.end()) {
      return Syntax("\"schemas\" must contain " + type_.schema);
    }
    return OkStatus();
  }

  Status AddMember(std::string_view key, const json::Value& value) {
    if (EqualsIgnoreCase(key, "schemas")) return OkStatus();
    if (SchemaPart* ext = FindPart(key); ext != nullptr && !ext->is_core) {
      return AddExtensionObject(*ext, value);
    }
    if (const Attribute* common = FindCommonAttribute(key)) return AddCommon(*common, value);
    if (const Attribute* attr = parts_[0].schema->FindAttribute(key)) {
      return AddAttribute(parts_[0], *attr, value);
    }
    return AddQualified(key, value);
  }

  // An extension object: {"urn:...:enterprise:2.0:User": {"employeeNumber": "42"}}.
  Status AddExtensionObject(SchemaPart& part, const json::Value& value) {
    if (value.IsNull()) return OkStatus();  // RFC 7643 §2.5: unassigned
    if (!value.IsObject()) return Invalid("extension " + part.schema->id + " must be an object");
    for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
      const Attribute* attr = part.schema->FindAttribute(json::View(it->name));
      if (attr == nullptr) {
        return Syntax("unknown attribute '" + part.schema->id + ":" +
                      std::string(json::View(it->name)) + "'");
      }
      SCIM_RETURN_IF_ERROR(AddAttribute(part, *attr, it->value));
    }
    return OkStatus();
  }

  // "urn:...:User:userName" or "urn:...:enterprise:2.0:User:employeeNumber" as a top-level key.
  Status AddQualified(std::string_view key, const json::Value& value) {
    size_t colon = key.rfind(':');
    if (colon != std::string_view::npos) {
      if (SchemaPart* part = FindPart(key.substr(0, colon))) {
        if (const Attribute* attr = part->schema->FindAttribute(key.substr(colon + 1))) {
          return AddAttribute(*part, *attr, value);
        }
      }
    }
    return Syntax("unknown attribute '" + std::string(key.substr(0, 200)) + "' for resource type " +
                  type_.name);
  }

  // id and meta are the service's (readOnly, dropped); externalId is the client's (RFC 7643 §3.1).
  Status AddCommon(const Attribute& attr, const json::Value& value) {
    SCIM_RETURN_IF_ERROR(MarkSeen(attr.name));
    if (attr.mutability == Mutability::kReadOnly || value.IsNull()) return OkStatus();
    json::Value normalized;
    SCIM_RETURN_IF_ERROR(
        internal::NormalizeAttributeValue(attr, value, attr.name, alloc_, normalized));
    if (!normalized.IsNull()) external_id_ = std::move(normalized);
    return OkStatus();
  }

  Status MarkSeen(const std::string& qualified) {
    if (!seen_.insert(ToLower(qualified)).second) {
      return Syntax("attribute '" + qualified + "' given more than once");
    }
    return OkStatus();
  }

  std::string PathOf(const SchemaPart& part, const std::string& name) const {
    return part.is_core ? name : part.schema->id + ":" + name;
  }

  // RFC 7644 §3.5.1: values of readOnly attributes SHALL be ignored.
  Status AddAttribute(SchemaPart& part, const Attribute& attr, const json::Value& value) {
    std::string path = PathOf(part, attr.name);
    SCIM_RETURN_IF_ERROR(MarkSeen(path));
    if (attr.mutability == Mutability::kReadOnly) return OkStatus();
    json::Value normalized;
    SCIM_RETURN_IF_ERROR(internal::NormalizeAttributeValue(attr, value, path, alloc_, normalized));
    if (normalized.IsNull()) return OkStatus();
    part.object.AddMember(json::String(attr.name, alloc_), normalized, alloc_);
    return OkStatus();
  }

  // Required attributes (RFC 7643 §2.2) must be present and not blank. readOnly ones are the
  // service's to set. An extension's attributes are only required when the extension is used.
  Status CheckRequired() {
    for (const SchemaPart& part : parts_) {
      if (!part.is_core && part.object.MemberCount() == 0) {
        if (part.required) return Invalid("required extension " + part.schema->id + " is missing");
        continue;
      }
      for (const Attribute& attr : part.schema->attributes) {
        if (!attr.required || attr.mutability == Mutability::kReadOnly) continue;
        const json::Value* v = json::FindMemberCI(part.object, attr.name);
        if (v == nullptr || (v->IsString() && Trim(json::View(*v)).empty())) {
          return Invalid("required attribute '" + PathOf(part, attr.name) +
                         "' is missing or empty");
        }
      }
    }
    return OkStatus();
  }

  static bool SameValue(const Attribute& attr, const json::Value& a, const json::Value& b) {
    if (a.IsString() && b.IsString() && !attr.case_exact) {
      return EqualsIgnoreCase(json::View(a), json::View(b));
    }
    return a == b;
  }

  // RFC 7644 §3.5.1: an immutable attribute that already has a value must be sent unchanged. An
  // omitted one keeps its stored value (PUT cannot clear it either).
  Status CheckImmutableIn(const Attribute& attr, const std::string& path, const json::Value* old,
                          json::Value& target) {
    if (old == nullptr || old->IsNull()) return OkStatus();
    json::Value* now = json::FindMemberCI(target, attr.name);
    if (now == nullptr) {
      target.AddMember(json::String(attr.name, alloc_), json::Value(*old, alloc_), alloc_);
      return OkStatus();
    }
    if (!SameValue(attr, *old, *now)) {
      return Error(ErrorCode::kMutability, "attribute '" + path + "' is immutable");
    }
    return OkStatus();
  }

  // Immutable top-level attributes, and immutable sub-attributes of single-valued complex
  // attributes. Sub-attributes of multi-valued attributes (Group members.value) are skipped:
  // their items may be added and removed, and an item is identified by those very values.
  Status CheckImmutableAttribute(const Attribute& attr, const std::string& path,
                                 const json::Value* old_parent, json::Value& target) {
    const json::Value* old = old_parent ? json::FindMemberCI(*old_parent, attr.name) : nullptr;
    if (attr.mutability == Mutability::kImmutable) return CheckImmutableIn(attr, path, old, target);
    if (attr.type != AttributeType::kComplex || attr.multi_valued || old == nullptr) {
      return OkStatus();
    }
    bool created = false;
    for (const Attribute& sub : attr.sub_attributes) {
      if (sub.mutability != Mutability::kImmutable) continue;
      const json::Value* old_sub = json::FindMemberCI(*old, sub.name);
      if (old_sub == nullptr || old_sub->IsNull()) continue;
      json::Value* now = json::FindMemberCI(target, attr.name);
      if (now == nullptr) {
        target.AddMember(json::String(attr.name, alloc_), json::Value(rapidjson::kObjectType),
                         alloc_);
        now = json::FindMemberCI(target, attr.name);
        created = true;
      }
      SCIM_RETURN_IF_ERROR(CheckImmutableIn(sub, path + "." + sub.name, old_sub, *now));
    }
    // A complex value the body left out, brought back for its immutable sub-attributes, keeps
    // its stored required sub-attributes too (RFC 7644 §3.5.1 lets the service keep omitted
    // values), so that it stays valid; without them it is refused.
    if (created) {
      json::Value* now = json::FindMemberCI(target, attr.name);
      SCIM_RETURN_IF_ERROR(KeepRequired(attr.sub_attributes, *old, *now, path + "."));
    }
    return OkStatus();
  }

  // Copies into `target` the required attributes of `attrs` it lacks from `old`; then fails
  // (kInvalidValue) if one is still missing or blank.
  Status KeepRequired(const std::vector<Attribute>& attrs, const json::Value& old,
                      json::Value& target, const std::string& prefix) {
    for (const Attribute& a : attrs) {
      if (!a.required || a.mutability == Mutability::kReadOnly) continue;
      const json::Value* v = json::FindMemberCI(target, a.name);
      const json::Value* stored = json::FindMemberCI(old, a.name);
      if (v == nullptr && stored != nullptr && !stored->IsNull()) {
        target.AddMember(json::String(a.name, alloc_), json::Value(*stored, alloc_), alloc_);
        v = json::FindMemberCI(target, a.name);
      }
      if (v == nullptr || (v->IsString() && Trim(json::View(*v)).empty())) {
        return Invalid("required attribute '" + prefix + a.name + "' is missing or empty");
      }
    }
    return OkStatus();
  }

  Status CheckImmutable(const json::Value& existing) {
    for (SchemaPart& part : parts_) {
      const json::Value* old =
          part.is_core ? &existing : json::FindMemberCI(existing, part.schema->id);
      if (old == nullptr || !old->IsObject()) continue;
      bool was_empty = part.object.MemberCount() == 0;
      for (const Attribute& attr : part.schema->attributes) {
        SCIM_RETURN_IF_ERROR(
            CheckImmutableAttribute(attr, PathOf(part, attr.name), old, part.object));
      }
      // An extension the body left out, brought back by its immutable attributes: likewise.
      if (!part.is_core && was_empty && part.object.MemberCount() > 0) {
        SCIM_RETURN_IF_ERROR(
            KeepRequired(part.schema->attributes, *old, part.object, part.schema->id + ":"));
      }
    }
    return OkStatus();
  }

  // "schemas" first, then externalId, the core attributes, and one object per used extension
  // (whose URN is added to "schemas" when the client left it out).
  void Assemble() {
    for (const SchemaPart& part : parts_) {
      if (!part.is_core && part.object.MemberCount() > 0) ListSchema(part);
    }
    out_.SetObject();
    json::Value schemas(rapidjson::kArrayType);
    for (const Schema* s : listed_schemas_) schemas.PushBack(json::String(s->id, alloc_), alloc_);
    out_.AddMember("schemas", schemas, alloc_);
    if (!external_id_.IsNull()) out_.AddMember("externalId", external_id_, alloc_);
    for (SchemaPart& part : parts_) {
      if (part.is_core) {
        for (auto it = part.object.MemberBegin(); it != part.object.MemberEnd(); ++it) {
          out_.AddMember(it->name, it->value, alloc_);
        }
      } else if (part.object.MemberCount() > 0) {
        out_.AddMember(json::String(part.schema->id, alloc_), part.object, alloc_);
      }
    }
  }

  const ResourceType& type_;
  json::Document& out_;
  json::Allocator& alloc_;
  std::vector<SchemaPart> parts_;
  std::vector<const Schema*> listed_schemas_;
  std::set<std::string> seen_;
  json::Value external_id_;
};

}  // namespace

Status NormalizeResource(const Registry& registry, const ResourceType& type,
                         const json::Value& input, WriteMode mode, const json::Value* existing,
                         json::Document& out) {
  json::Document result;
  Normalizer normalizer(registry, type, result);
  SCIM_RETURN_IF_ERROR(normalizer.Run(input, mode, existing));
  out.Swap(result);
  return OkStatus();
}

}  // namespace scim::schema
