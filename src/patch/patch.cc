#include "scim/patch/patch.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "scim/common/clock.h"
#include "scim/common/strings.h"
#include "scim/filter/bind.h"
#include "scim/filter/evaluator.h"
#include "scim/filter/parser.h"
#include "scim/schema/validator.h"

namespace scim::patch {
namespace {

using schema::Attribute;
using schema::AttributeType;
using schema::Mutability;

enum class OpKind { kAdd, kRemove, kReplace };

const char* OpName(OpKind kind) {
  switch (kind) {
    case OpKind::kAdd:
      return "add";
    case OpKind::kRemove:
      return "remove";
    case OpKind::kReplace:
      return "replace";
  }
  return "?";
}

Error InvalidValue(std::string detail) {
  return Error(ErrorCode::kInvalidValue, std::move(detail));
}
Error InvalidPath(std::string detail) { return Error(ErrorCode::kInvalidPath, std::move(detail)); }
Error MutabilityError(std::string detail) {
  return Error(ErrorCode::kMutability, std::move(detail));
}
Error NoTarget(std::string detail) { return Error(ErrorCode::kNoTarget, std::move(detail)); }

// ---------------------------------------------------------------------------------------------
// JSON helpers.

// Sets object[name] = value (moved), renaming a case-insensitive match to `name` in place.
void SetMember(json::Value& object, std::string_view name, json::Value& value,
               json::Allocator& alloc) {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    if (EqualsIgnoreCase(json::View(it->name), name)) {
      if (json::View(it->name) != name) it->name.SetString(name.data(), name.size(), alloc);
      it->value.Swap(value);
      return;
    }
  }
  json::Value key = json::String(name, alloc);
  object.AddMember(key, value, alloc);
}

// Moves every member of `src` into `dst` (sub-attribute merge of §3.5.2.1 / §3.5.2.3).
void MergeObject(json::Value& dst, json::Value& src, json::Allocator& alloc) {
  for (auto it = src.MemberBegin(); it != src.MemberEnd(); ++it) {
    SetMember(dst, json::View(it->name), it->value, alloc);
  }
}

bool StringEquals(std::string_view a, std::string_view b, bool case_exact) {
  return case_exact ? a == b : EqualsIgnoreCase(a, b);
}

// Equality of two simple values of an attribute (strings per caseExact, dateTimes as instants).
bool ScalarEquals(const Attribute* def, const json::Value& a, const json::Value& b) {
  if (a.IsString() && b.IsString()) {
    if (def && def->type == AttributeType::kDateTime) {
      auto na = NormalizeTimestamp(json::View(a));
      auto nb = NormalizeTimestamp(json::View(b));
      if (na && nb) return *na == *nb;
    }
    return StringEquals(json::View(a), json::View(b), def ? def->case_exact : true);
  }
  return a == b;
}

// Whether two elements of a multi-valued attribute denote the same value: same "value" and same
// "type" for complex attributes that have a "value" sub-attribute, plain equality otherwise.
bool SameElement(const Attribute& attr, const json::Value& x, const json::Value& y) {
  if (attr.type != AttributeType::kComplex) return ScalarEquals(&attr, x, y);
  const Attribute* value_def = attr.FindSub("value");
  if (value_def == nullptr || !x.IsObject() || !y.IsObject()) return x == y;
  const json::Value* vx = json::FindMemberCI(x, "value");
  const json::Value* vy = json::FindMemberCI(y, "value");
  if (vx == nullptr || vy == nullptr) return x == y;
  if (!ScalarEquals(value_def, *vx, *vy)) return false;
  const json::Value* tx = json::FindMemberCI(x, "type");
  const json::Value* ty = json::FindMemberCI(y, "type");
  bool has_tx = tx != nullptr && !tx->IsNull();
  bool has_ty = ty != nullptr && !ty->IsNull();
  if (has_tx != has_ty) return false;
  if (!has_tx) return true;
  return ScalarEquals(attr.FindSub("type"), *tx, *ty);
}

// Whether every member of `given` equals the same member of `element` (remove-by-value).
bool ElementContains(const Attribute& attr, const json::Value& element, const json::Value& given) {
  if (attr.type != AttributeType::kComplex || !given.IsObject() || !element.IsObject()) {
    return ScalarEquals(&attr, element, given);
  }
  for (auto it = given.MemberBegin(); it != given.MemberEnd(); ++it) {
    const json::Value* mine = json::FindMemberCI(element, json::View(it->name));
    if (mine == nullptr || !ScalarEquals(attr.FindSub(json::View(it->name)), *mine, it->value)) {
      return false;
    }
  }
  return true;
}

bool IsEmptyValue(const json::Value* v) {
  return v == nullptr || v->IsNull() || (v->IsArray() && v->Empty()) ||
         (v->IsObject() && v->MemberCount() == 0);
}

// ---------------------------------------------------------------------------------------------
// Reading bound value filters.

using EqualityTerm = std::pair<const Attribute*, filter::BoundValue>;

void CollectEqualities(const filter::BoundNode& node, bool& ok, std::vector<EqualityTerm>& out) {
  if (!ok) return;
  if (node.kind == filter::BoundNode::Kind::kAnd) {
    for (const auto& child : node.children) CollectEqualities(child, ok, out);
  } else if (node.kind == filter::BoundNode::Kind::kCompare && node.op == filter::CompareOp::kEq &&
             node.path.sub_attribute != nullptr &&
             node.value.type != filter::BoundValue::Type::kNone) {
    out.emplace_back(node.path.sub_attribute, node.value);
  } else {
    ok = false;
  }
}

// When a value filter is `a eq lit` or a conjunction of such terms: the (sub-attribute, literal)
// pairs, from which a new element can be built. nullopt otherwise.
std::optional<std::vector<EqualityTerm>> EqualityTerms(const filter::BoundFilter& f) {
  std::vector<EqualityTerm> out;
  bool ok = true;
  CollectEqualities(f.root, ok, out);
  if (!ok) return std::nullopt;
  return out;
}

// When a value filter is exactly `value eq "string"`: that string.
std::optional<std::string> SingleValueEq(const filter::BoundFilter& f) {
  const filter::BoundNode& n = f.root;
  if (n.kind != filter::BoundNode::Kind::kCompare || n.op != filter::CompareOp::kEq ||
      n.value.type != filter::BoundValue::Type::kString || n.path.sub_attribute == nullptr ||
      !EqualsIgnoreCase(n.path.sub_attribute->name, "value")) {
    return std::nullopt;
  }
  return n.value.text;
}

json::Value BoundValueToJson(const filter::BoundValue& v, json::Allocator& alloc) {
  switch (v.type) {
    case filter::BoundValue::Type::kString:
    case filter::BoundValue::Type::kDateTime:
      return json::String(v.text, alloc);
    case filter::BoundValue::Type::kBoolean:
      return json::Value(v.boolean);
    case filter::BoundValue::Type::kNumber: {
      json::Document doc;
      if (json::Parse(v.text, doc).ok() && doc.IsNumber()) return json::Value(doc, alloc);
      return json::Value(v.number);
    }
    case filter::BoundValue::Type::kNone:
      break;
  }
  return json::Value();
}

// ---------------------------------------------------------------------------------------------
// Value coercion: checks a client value against an attribute definition and returns it in
// canonical form (canonical sub-attribute names, booleans as booleans, normalized dateTimes).

class Coercer {
 public:
  explicit Coercer(json::Allocator& alloc) : alloc_(alloc) {}

  // A value for the whole attribute: an array for multi-valued attributes (a single element is
  // wrapped), a single value otherwise. `in` must not be null. `parent` is the attribute `attr`
  // is a sub-attribute of (nullptr for a top-level attribute).
  Result<json::Value> Whole(const Attribute& attr, const json::Value& in, const std::string& where,
                            const Attribute* parent = nullptr) {
    if (!attr.multi_valued)
      return Single(attr, in, where, attr.mutability == Mutability::kReadOnly, parent);
    json::Value out(rapidjson::kArrayType);
    auto add = [&](const json::Value& element) -> Status {
      if (element.IsNull()) return OkStatus();
      auto coerced = Single(attr, element, where, attr.mutability == Mutability::kReadOnly, parent);
      if (!coerced.ok()) return coerced.error();
      out.PushBack(*coerced, alloc_);
      return OkStatus();
    };
    if (in.IsArray()) {
      for (const auto& element : in.GetArray()) SCIM_RETURN_IF_ERROR(add(element));
    } else {
      SCIM_RETURN_IF_ERROR(add(in));
    }
    return out;
  }

  // One value of the attribute's type (one element, for a multi-valued attribute).
  Result<json::Value> Single(const Attribute& attr, const json::Value& in, const std::string& where,
                             bool keep_read_only, const Attribute* parent = nullptr) {
    // Entra ID before 2020 sent singular attributes as [{"value": v}]; unwrap that form.
    if (!attr.multi_valued && in.IsArray()) {
      if (in.Size() == 1) {
        const json::Value& only = in[0];
        if (only.IsObject() && only.MemberCount() == 1 && json::FindMemberCI(only, "value") &&
            attr.type != AttributeType::kComplex) {
          return Single(attr, *json::FindMemberCI(only, "value"), where, keep_read_only, parent);
        }
        if (!only.IsObject() && !only.IsArray()) {
          return Single(attr, only, where, keep_read_only, parent);
        }
        if (only.IsObject() && attr.type == AttributeType::kComplex) {
          return Single(attr, only, where, keep_read_only, parent);  // [{"value": id}] (manager)
        }
      }
      return InvalidValue(where + " is single-valued; an array was given");
    }
    switch (attr.type) {
      case AttributeType::kString:
      case AttributeType::kReference:
      case AttributeType::kBinary:
        if (!in.IsString()) return InvalidValue(where + " must be a string");
        return Canonical(attr, parent, in);
      case AttributeType::kBoolean:
        if (in.IsBool()) return json::Value(in.GetBool());
        // Entra ID sends booleans as "True"/"False".
        if (in.IsString() && EqualsIgnoreCase(json::View(in), "true")) return json::Value(true);
        if (in.IsString() && EqualsIgnoreCase(json::View(in), "false")) return json::Value(false);
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
        return Complex(attr, in, where, keep_read_only);
    }
    return InvalidValue(where + ": unsupported attribute type");
  }

 private:
  // A string value in the schema's spelling when it matches one of the attribute's
  // canonicalValues case-insensitively, as schema::NormalizeResource stores it (so a PATCH stores
  // what a PUT of the same value would): not for the "type" of a multi-valued attribute, whose
  // canonical values are only suggestions (RFC 7643 §2.4). A value matching none is kept as is;
  // the final NormalizeResource check rejects it.
  json::Value Canonical(const Attribute& attr, const Attribute* parent, const json::Value& in) {
    bool suggested_only =
        parent != nullptr && parent->multi_valued && EqualsIgnoreCase(attr.name, "type");
    if (!suggested_only) {
      for (const std::string& canonical : attr.canonical_values) {
        if (EqualsIgnoreCase(canonical, json::View(in))) return json::String(canonical, alloc_);
      }
    }
    return json::Value(in, alloc_);
  }

  Result<json::Value> Complex(const Attribute& attr, const json::Value& in,
                              const std::string& where, bool keep_read_only) {
    if (!in.IsObject()) {
      // Entra ID sends the enterprise `manager` (a singular complex attribute) as the bare id:
      // it becomes {"value": id}. Elements of multi-valued attributes must be objects.
      const Attribute* value_def = attr.FindSub("value");
      if (value_def != nullptr && !attr.multi_valued &&
          (in.IsString() || in.IsNumber() || in.IsBool())) {
        auto v = Single(*value_def, in, where + ".value", keep_read_only, &attr);
        if (!v.ok()) return v;
        json::Value out(rapidjson::kObjectType);
        out.AddMember(json::String(value_def->name, alloc_), *v, alloc_);
        return out;
      }
      return InvalidValue(where + " must be an object of sub-attributes");
    }
    json::Value out(rapidjson::kObjectType);
    for (auto it = in.MemberBegin(); it != in.MemberEnd(); ++it) {
      std::string name(json::View(it->name));
      const Attribute* sub = attr.FindSub(name);
      if (sub == nullptr) {
        return InvalidValue(where + " has no sub-attribute \"" + name + "\"");
      }
      if (it->value.IsNull()) continue;  // unassigned (RFC 7643 §2.5)
      // readOnly sub-attributes sent by clients are ignored (RFC 7643 §2.2), unless the whole
      // attribute is readOnly, in which case any change is refused later.
      if (sub->mutability == Mutability::kReadOnly && !keep_read_only) continue;
      auto v = sub->multi_valued
                   ? Whole(*sub, it->value, where + "." + sub->name, &attr)
                   : Single(*sub, it->value, where + "." + sub->name, keep_read_only, &attr);
      if (!v.ok()) return v;
      SetMember(out, sub->name, *v, alloc_);
    }
    return out;
  }

  json::Allocator& alloc_;
};

// ---------------------------------------------------------------------------------------------
// A resolved PATCH target.

struct Target {
  const Attribute* attr = nullptr;            // top-level attribute
  const Attribute* sub = nullptr;             // sub-attribute, after "." or "]."
  std::string ext_urn;                        // schema URN for extension attributes, else empty
  std::optional<filter::BoundFilter> filter;  // value filter selecting elements of `attr`
  std::string qualified;                      // canonical top-level name for changed_attributes
  std::string text;                           // the path as the client wrote it, for messages
};

// ---------------------------------------------------------------------------------------------
// The engine: applies operations to a private copy of the resource.

class Engine {
 public:
  Engine(const schema::Registry& registry, const schema::ResourceType& type, json::Document& work,
         const MemberLoader& load_members)
      : registry_(registry),
        type_(type),
        work_(work),
        alloc_(work.GetAllocator()),
        coercer_(work.GetAllocator()),
        load_members_(load_members) {}

  Status ApplyOperation(const json::Value& op) {
    if (!op.IsObject()) return Error(ErrorCode::kInvalidSyntax, "an operation must be an object");
    const json::Value* op_name = json::FindMemberCI(op, "op");
    if (op_name == nullptr || !op_name->IsString()) {
      return Error(ErrorCode::kInvalidSyntax, "an operation needs an \"op\" string");
    }
    OpKind kind;
    std::string_view name = json::View(*op_name);
    if (EqualsIgnoreCase(name, "add")) {
      kind = OpKind::kAdd;
    } else if (EqualsIgnoreCase(name, "remove")) {
      kind = OpKind::kRemove;
    } else if (EqualsIgnoreCase(name, "replace")) {
      kind = OpKind::kReplace;
    } else {
      return Error(ErrorCode::kInvalidSyntax,
                   "unknown op \"" + std::string(name) + "\" (expected add, remove or replace)");
    }
    const json::Value* path = json::FindMemberCI(op, "path");
    if (path != nullptr && !path->IsNull() && !path->IsString()) {
      return Error(ErrorCode::kInvalidSyntax, "\"path\" must be a string");
    }
    bool has_path = path != nullptr && path->IsString() && !Trim(json::View(*path)).empty();
    const json::Value* value = json::FindMemberCI(op, "value");
    if (kind == OpKind::kRemove) {
      // §3.5.2.2: "If "path" is unspecified, the operation fails with HTTP status code 400 and a
      // "scimType" error code of "noTarget"."
      if (!has_path) return NoTarget("remove needs a \"path\"");
      return ApplyPath(kind, json::View(*path), value);
    }
    if (value == nullptr) {
      return InvalidValue(std::string(OpName(kind)) + " needs a \"value\"");
    }
    if (has_path) return ApplyPath(kind, json::View(*path), value);
    return ApplyPathless(kind, *value);
  }

  // Keeps `schemas` in step with the extension objects touched, then builds the outcome.
  PatchOutcome Finish() {
    for (const std::string& urn : changed_extensions_) SyncExtension(urn, true);
    for (const std::string& urn : created_extensions_) {
      if (std::find(changed_extensions_.begin(), changed_extensions_.end(), urn) ==
          changed_extensions_.end()) {
        SyncExtension(urn, false);
      }
    }
    PatchOutcome outcome;
    outcome.members = BuildDelta();
    outcome.changed_attributes = changed_;
    if (!outcome.members.empty()) outcome.changed_attributes.push_back("members");
    outcome.modified = !outcome.changed_attributes.empty();
    return outcome;
  }

 private:
  // -- Path-less add/replace (§3.5.2.1 / §3.5.2.3 "If omitted, the target location is assumed
  // to be the resource itself").
  Status ApplyPathless(OpKind kind, const json::Value& value) {
    if (!value.IsObject()) {
      return InvalidValue(std::string(OpName(kind)) +
                          " without a path needs an object of attributes as its value");
    }
    for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
      std::string key(json::View(it->name));
      // `schemas` is maintained by the server from the attributes present.
      if (EqualsIgnoreCase(key, "schemas")) continue;
      if (const schema::Schema* s = SchemaOfType(key)) {
        if (!it->value.IsObject()) {
          return InvalidValue("the value of \"" + key + "\" must be an object of its attributes");
        }
        for (auto inner = it->value.MemberBegin(); inner != it->value.MemberEnd(); ++inner) {
          SCIM_RETURN_IF_ERROR(
              ApplyPath(kind, s->id + ":" + std::string(json::View(inner->name)), &inner->value));
        }
        continue;
      }
      SCIM_RETURN_IF_ERROR(ApplyPath(kind, key, &it->value));
    }
    return OkStatus();
  }

  // The core schema or an extension schema of the resource type named exactly by `urn`.
  const schema::Schema* SchemaOfType(std::string_view urn) const {
    if (!StartsWithIgnoreCase(urn, "urn:")) return nullptr;
    for (const schema::Schema* s : registry_.SchemasOf(type_)) {
      if (s != nullptr && EqualsIgnoreCase(s->id, urn)) return s;
    }
    return nullptr;
  }

  // Parses and binds a PATCH path with the filter module: unknown attributes are kInvalidPath,
  // errors inside the brackets kInvalidFilter (RFC 7644 §3.12 lists invalidFilter for PATCH path
  // filters).
  Result<Target> Resolve(std::string_view path) {
    auto parsed = filter::ParsePath(path);
    if (!parsed.ok()) return parsed.error();
    auto bound = filter::BindPath(*parsed, registry_, type_);
    if (!bound.ok()) return bound.error();
    Target t;
    t.text = std::string(Trim(path));
    t.attr = bound->attribute.attribute;
    t.sub = bound->target.sub_attribute;
    if (bound->attribute.in_extension) t.ext_urn = bound->attribute.schema_urn;
    t.qualified = t.ext_urn.empty() ? t.attr->name : t.ext_urn + ":" + t.attr->name;
    if (bound->value_filter) {
      if (!t.attr->multi_valued) {
        return InvalidPath("a value filter needs a multi-valued attribute, in \"" + t.text + "\"");
      }
      t.filter = std::move(bound->value_filter);
    }
    return t;
  }

  bool IsGroupMembers(const Target& t) const {
    return t.ext_urn.empty() && EqualsIgnoreCase(t.attr->name, "members") &&
           EqualsIgnoreCase(type_.schema, schema::kGroupSchema);
  }

  Status ApplyPath(OpKind kind, std::string_view path, const json::Value* value) {
    auto target = Resolve(path);
    if (!target.ok()) return target.error();
    if (IsGroupMembers(*target)) return ApplyMembers(kind, *target, value);
    return ApplyToAttribute(kind, *target, value);
  }

  // -- Attribute container access.

  json::Value* Container(const Target& t, bool create) {
    if (t.ext_urn.empty()) return &work_;
    json::Value* ext = json::FindMemberCI(work_, t.ext_urn);
    if (ext != nullptr && ext->IsObject()) return ext;
    if (!create) return nullptr;
    AddOnce(created_extensions_, t.ext_urn);
    json::Value object(rapidjson::kObjectType);
    SetMember(work_, t.ext_urn, object, alloc_);
    return json::FindMemberCI(work_, t.ext_urn);
  }

  json::Value* Current(const Target& t) {
    json::Value* container = Container(t, false);
    return container ? json::FindMemberCI(*container, t.attr->name) : nullptr;
  }

  void Set(const Target& t, json::Value& value) {
    SetMember(*Container(t, true), t.attr->name, value, alloc_);
  }

  void Erase(const Target& t) {
    json::Value* container = Container(t, false);
    if (container != nullptr) json::RemoveMemberCI(*container, t.attr->name);
  }

  // The attribute as a (possibly new, empty) array.
  json::Value& ArrayOf(const Target& t) {
    json::Value* cur = Current(t);
    if (cur == nullptr || !cur->IsArray()) {
      json::Value empty(rapidjson::kArrayType);
      Set(t, empty);
      cur = Current(t);
    }
    return *cur;
  }

  // -- Attributes other than group members.

  Status ApplyToAttribute(OpKind kind, const Target& t, const json::Value* value) {
    // §3.5.2.2: removing a required or readOnly attribute is a "mutability" error, whether or not
    // it currently has a value.
    if (kind == OpKind::kRemove) {
      if (t.attr->mutability == Mutability::kReadOnly ||
          (t.sub != nullptr && t.sub->mutability == Mutability::kReadOnly)) {
        return MutabilityError("\"" + t.text + "\" is readOnly and cannot be removed");
      }
      if (t.attr->required && t.sub == nullptr && !t.filter) {
        return MutabilityError("attribute \"" + t.qualified + "\" is required");
      }
    }
    // Snapshot the attribute to check mutability and detect a change afterwards.
    json::Value before;
    const json::Value* cur = Current(t);
    bool had_before = !IsEmptyValue(cur);
    if (cur != nullptr) before.CopyFrom(*cur, scratch_.GetAllocator());

    std::vector<size_t> written;  // elements of a multi-valued attribute this operation wrote
    if (kind == OpKind::kRemove || value == nullptr || value->IsNull()) {
      // null is "unassigned" (RFC 7643 §2.5): add/replace of null removes.
      SCIM_RETURN_IF_ERROR(Remove(t, kind == OpKind::kRemove ? value : nullptr));
    } else if (kind == OpKind::kAdd) {
      SCIM_RETURN_IF_ERROR(Add(t, *value, written));
    } else {
      SCIM_RETURN_IF_ERROR(Replace(t, *value, written));
    }

    const json::Value* after = Current(t);
    bool has_after = !IsEmptyValue(after);
    if (after != nullptr && !has_after) {
      Erase(t);  // an empty array or object is unassigned
      after = nullptr;
    }
    bool changed = had_before != has_after || (had_before && !(before == *after));
    if (!changed) return OkStatus();

    // RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability "readOnly" or
    // "immutable". However, a client MAY "add" a value to an "immutable" attribute if the
    // attribute had no previous value."
    const Attribute& attr = *t.attr;
    if (attr.mutability == Mutability::kReadOnly) {
      return MutabilityError("attribute \"" + t.qualified + "\" is readOnly");
    }
    if (attr.mutability == Mutability::kImmutable && had_before) {
      return MutabilityError("attribute \"" + t.qualified + "\" is immutable and already set");
    }
    if (t.sub != nullptr && t.sub->mutability == Mutability::kReadOnly) {
      return MutabilityError("sub-attribute \"" + t.qualified + "." + t.sub->name +
                             "\" is readOnly");
    }
    if (t.sub != nullptr && t.sub->mutability == Mutability::kImmutable && !attr.multi_valued &&
        had_before && before.IsObject()) {
      const json::Value* old_sub = json::FindMemberCI(before, t.sub->name);
      if (!IsEmptyValue(old_sub)) {
        return MutabilityError("sub-attribute \"" + t.qualified + "." + t.sub->name +
                               "\" is immutable and already set");
      }
    }
    // §3.5.2.2: "If an attribute is removed or becomes unassigned and is defined as a required
    // attribute or a read-only attribute, the server SHALL return ... "mutability"."
    if (attr.required && !has_after) {
      return MutabilityError("attribute \"" + t.qualified + "\" is required");
    }
    if (attr.required && after->IsString() && after->GetStringLength() == 0) {
      return InvalidValue("attribute \"" + t.qualified + "\" is required and cannot be empty");
    }
    if (has_after) SCIM_RETURN_IF_ERROR(CheckRequiredSubs(t, *after, kind));
    if (has_after && attr.multi_valued && !written.empty()) {
      SCIM_RETURN_IF_ERROR(EnforcePrimary(t, written));
    }
    AddOnce(changed_, t.qualified);
    if (!t.ext_urn.empty()) AddOnce(changed_extensions_, t.ext_urn);
    return OkStatus();
  }

  // Every complex value must keep its required sub-attributes.
  Status CheckRequiredSubs(const Target& t, const json::Value& value, OpKind kind) {
    if (t.attr->type != AttributeType::kComplex) return OkStatus();
    auto check = [&](const json::Value& object) -> Status {
      if (!object.IsObject()) return OkStatus();
      for (const Attribute& sub : t.attr->sub_attributes) {
        if (sub.required && IsEmptyValue(json::FindMemberCI(object, sub.name))) {
          std::string detail = "sub-attribute \"" + t.qualified + "." + sub.name + "\" is required";
          return kind == OpKind::kRemove ? MutabilityError(detail) : InvalidValue(detail);
        }
      }
      return OkStatus();
    };
    if (value.IsArray()) {
      for (const auto& element : value.GetArray()) SCIM_RETURN_IF_ERROR(check(element));
      return OkStatus();
    }
    return check(value);
  }

  // §3.5.2: "a PATCH operation that sets a value's "primary" sub-attribute to "true" SHALL cause
  // the server to automatically set "primary" to "false" for any other values in the array."
  Status EnforcePrimary(const Target& t, const std::vector<size_t>& written) {
    if (t.attr->type != AttributeType::kComplex || t.attr->FindSub("primary") == nullptr) {
      return OkStatus();
    }
    json::Value* array = Current(t);
    if (array == nullptr || !array->IsArray()) return OkStatus();
    auto is_primary = [](const json::Value& element) {
      const json::Value* p = element.IsObject() ? json::FindMemberCI(element, "primary") : nullptr;
      return p != nullptr && p->IsBool() && p->GetBool();
    };
    int primaries = 0;
    for (size_t i : written) {
      if (i < array->Size() && is_primary((*array)[i])) ++primaries;
    }
    if (primaries > 1) {
      return InvalidValue("more than one value of \"" + t.qualified + "\" is marked primary");
    }
    if (primaries == 0) return OkStatus();
    for (size_t i = 0; i < array->Size(); ++i) {
      if (std::find(written.begin(), written.end(), i) != written.end()) continue;
      json::Value& element = (*array)[i];
      if (is_primary(element)) {
        json::Value f(false);
        SetMember(element, "primary", f, alloc_);
      }
    }
    return OkStatus();
  }

  std::vector<size_t> Matching(const Target& t) {
    std::vector<size_t> out;
    const json::Value* cur = Current(t);
    if (cur == nullptr || !cur->IsArray()) return out;
    for (size_t i = 0; i < cur->Size(); ++i) {
      if (filter::MatchesElement(*t.filter, (*cur)[i])) out.push_back(i);
    }
    return out;
  }

  // A new element for a filter that matched nothing: the filter's `attr eq literal` terms plus
  // `extra` (an element object, or the value for t.sub). Entra ID relies on this for
  // `add emails[type eq "work"].value`.
  Result<json::Value> ElementFromFilter(const Target& t, json::Value* extra) {
    auto terms = EqualityTerms(*t.filter);
    if (!terms || t.attr->type != AttributeType::kComplex) {
      return NoTarget("no value of \"" + t.attr->name + "\" matches \"" + t.text +
                      "\" and the filter does not describe a new one");
    }
    json::Value element(rapidjson::kObjectType);
    for (const auto& [sub, literal] : *terms) {
      json::Value raw = BoundValueToJson(literal, alloc_);
      auto v = coercer_.Single(*sub, raw, t.attr->name + "." + sub->name, false, t.attr);
      if (!v.ok()) return v;
      SetMember(element, sub->name, *v, alloc_);
    }
    if (extra != nullptr) {
      if (t.sub != nullptr) {
        SetMember(element, t.sub->name, *extra, alloc_);
      } else if (extra->IsObject()) {
        MergeObject(element, *extra, alloc_);
      }
    }
    return element;
  }

  // §3.5.2.1.
  Status Add(const Target& t, const json::Value& value, std::vector<size_t>& written) {
    const Attribute& attr = *t.attr;
    std::string where = t.qualified;
    if (!t.filter) {
      if (t.sub == nullptr) {
        auto coerced = coercer_.Whole(attr, value, where);
        if (!coerced.ok()) return coerced.error();
        if (attr.multi_valued) {
          // "If the target location specifies a multi-valued attribute, a new value is added to
          // the attribute"; "If the target location already contains the value specified, no
          // changes SHOULD be made".
          json::Value& array = ArrayOf(t);
          for (auto& element : coerced->GetArray()) {
            size_t i = 0;
            for (; i < array.Size(); ++i) {
              if (SameElement(attr, array[i], element)) break;
            }
            if (i < array.Size()) {
              if (array[i].IsObject() && element.IsObject()) MergeObject(array[i], element, alloc_);
            } else {
              array.PushBack(element, alloc_);
            }
            written.push_back(i);
          }
          return OkStatus();
        }
        return SetOrMerge(t, *coerced);
      }
      if (attr.multi_valued) {
        return InvalidPath("\"" + t.text + "\" names a sub-attribute of every value of " +
                           attr.name + "; select values with a filter, e.g. " + attr.name +
                           "[type eq \"work\"]." + t.sub->name);
      }
      return SetSub(t, value);
    }
    // With a value filter.
    auto coerced = t.sub ? coercer_.Whole(*t.sub, value, where + "." + t.sub->name, t.attr)
                         : coercer_.Single(attr, value, where, false);
    if (!coerced.ok()) return coerced.error();
    std::vector<size_t> matches = Matching(t);
    if (matches.empty()) return AppendFromFilter(t, *coerced, written);
    json::Value& array = *Current(t);
    for (size_t i : matches) {
      json::Value copy(*coerced, alloc_);
      if (t.sub != nullptr) {
        if (array[i].IsObject()) SetMember(array[i], t.sub->name, copy, alloc_);
      } else if (array[i].IsObject() && copy.IsObject()) {
        MergeObject(array[i], copy, alloc_);
      } else {
        array[i].Swap(copy);
      }
      written.push_back(i);
    }
    return OkStatus();
  }

  Status AppendFromFilter(const Target& t, json::Value& value, std::vector<size_t>& written) {
    auto element = ElementFromFilter(t, &value);
    if (!element.ok()) return element.error();
    json::Value& array = ArrayOf(t);
    array.PushBack(*element, alloc_);
    written.push_back(array.Size() - 1);
    return OkStatus();
  }

  // Complex singular attributes are merged (§3.5.2.1, and §3.5.2.3: "Sub-attributes that are not
  // specified in the "value" parameter are left unchanged"); simple ones replaced.
  Status SetOrMerge(const Target& t, json::Value& coerced) {
    json::Value* cur = Current(t);
    if (t.attr->type == AttributeType::kComplex && cur != nullptr && cur->IsObject() &&
        coerced.IsObject()) {
      MergeObject(*cur, coerced, alloc_);
    } else {
      Set(t, coerced);
    }
    return OkStatus();
  }

  Status SetSub(const Target& t, const json::Value& value) {
    auto coerced = coercer_.Whole(*t.sub, value, t.qualified + "." + t.sub->name, t.attr);
    if (!coerced.ok()) return coerced.error();
    json::Value* cur = Current(t);
    if (cur == nullptr || !cur->IsObject()) {
      json::Value object(rapidjson::kObjectType);
      Set(t, object);
      cur = Current(t);
    }
    SetMember(*cur, t.sub->name, *coerced, alloc_);
    return OkStatus();
  }

  // §3.5.2.3.
  Status Replace(const Target& t, const json::Value& value, std::vector<size_t>& written) {
    const Attribute& attr = *t.attr;
    std::string where = t.qualified;
    if (!t.filter) {
      if (t.sub == nullptr) {
        auto coerced = coercer_.Whole(attr, value, where);
        if (!coerced.ok()) return coerced.error();
        if (attr.multi_valued) {
          // "If the target location is a multi-valued attribute and no filter is specified, the
          // attribute and all values are replaced."
          for (size_t i = 0; i < coerced->Size(); ++i) written.push_back(i);
          Set(t, *coerced);
          return OkStatus();
        }
        return SetOrMerge(t, *coerced);
      }
      if (attr.multi_valued) {
        return InvalidPath("\"" + t.text + "\" names a sub-attribute of every value of " +
                           attr.name + "; select values with a filter");
      }
      return SetSub(t, value);
    }
    auto coerced = t.sub ? coercer_.Whole(*t.sub, value, where + "." + t.sub->name, t.attr)
                         : coercer_.Single(attr, value, where, false);
    if (!coerced.ok()) return coerced.error();
    std::vector<size_t> matches = Matching(t);
    if (matches.empty()) {
      // "If the target location is a multi-valued attribute for which a value selection filter
      // ("valuePath") has been supplied and no record match was made, the service provider SHALL
      // indicate failure by returning HTTP status code 400 and a "scimType" error code of
      // "noTarget"." An attribute without any value "does not exist", and "If the target
      // location path specifies an attribute that does not exist, the service provider SHALL
      // treat the operation as an "add"" (Entra ID replaces emails[type eq "work"].value on users
      // created without email).
      if (!IsEmptyValue(Current(t))) {
        return NoTarget("no value of \"" + attr.name + "\" matches \"" + t.text + "\"");
      }
      return AppendFromFilter(t, *coerced, written);
    }
    json::Value& array = *Current(t);
    for (size_t i : matches) {
      json::Value copy(*coerced, alloc_);
      if (t.sub != nullptr) {
        if (array[i].IsObject()) SetMember(array[i], t.sub->name, copy, alloc_);
      } else {
        // "all matching record values SHALL be replaced".
        array[i].Swap(copy);
      }
      written.push_back(i);
    }
    return OkStatus();
  }

  // §3.5.2.2. `value` is only looked at for attribute-level removes of multi-valued attributes.
  Status Remove(const Target& t, const json::Value* value) {
    const Attribute& attr = *t.attr;
    json::Value* cur = Current(t);
    if (cur == nullptr) return OkStatus();
    if (!t.filter && t.sub == nullptr) {
      if (attr.multi_valued && value != nullptr && !value->IsNull() && cur->IsArray()) {
        // Entra ID style: remove the listed values only.
        auto given = coercer_.Whole(attr, *value, t.qualified);
        if (!given.ok()) return given.error();
        for (size_t i = cur->Size(); i-- > 0;) {
          for (const auto& g : given->GetArray()) {
            if (ElementContains(attr, (*cur)[i], g)) {
              cur->Erase(cur->Begin() + i);
              break;
            }
          }
        }
        return OkStatus();
      }
      Erase(t);
      return OkStatus();
    }
    if (!t.filter) {
      // attr.sub without a filter.
      if (!attr.multi_valued) {
        if (cur->IsObject()) json::RemoveMemberCI(*cur, t.sub->name);
        return OkStatus();
      }
      if (!cur->IsArray()) return OkStatus();
      if (EqualsIgnoreCase(t.sub->name, "value")) {
        Erase(t);
        return OkStatus();
      }
      for (size_t i = cur->Size(); i-- > 0;) {
        json::Value& element = (*cur)[i];
        if (element.IsObject()) json::RemoveMemberCI(element, t.sub->name);
        if (IsEmptyValue(&element)) cur->Erase(cur->Begin() + i);
      }
      return OkStatus();
    }
    // With a value filter: "the values matched by the filter are removed". A filter matching
    // nothing leaves the resource unchanged, so a retried remove succeeds.
    std::vector<size_t> matches = Matching(t);
    for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
      json::Value& element = (*cur)[*it];
      // Removing the `value` of an element leaves nothing meaningful: remove the element.
      if (t.sub == nullptr || EqualsIgnoreCase(t.sub->name, "value")) {
        cur->Erase(cur->Begin() + *it);
        continue;
      }
      if (element.IsObject()) json::RemoveMemberCI(element, t.sub->name);
      if (IsEmptyValue(&element)) cur->Erase(cur->Begin() + *it);
    }
    return OkStatus();
  }

  // -- Group members: never written into the resource; collected as a delta.

  Result<MemberRef> ParseMember(const json::Value& v) {
    if (!v.IsObject()) {
      return InvalidValue("each value of \"members\" must be an object with a \"value\"");
    }
    const json::Value* id = json::FindMemberCI(v, "value");
    if (id == nullptr || !id->IsString() || id->GetStringLength() == 0) {
      return InvalidValue("each value of \"members\" needs a non-empty string \"value\"");
    }
    MemberRef ref;
    ref.value = std::string(json::View(*id));
    const json::Value* type = json::FindMemberCI(v, "type");
    if (type != nullptr && !type->IsNull()) {
      if (!type->IsString()) return InvalidValue("\"members.type\" must be a string");
      ref.type = std::string(json::View(*type));
    }
    const json::Value* display = json::FindMemberCI(v, "display");
    if (display != nullptr && !display->IsNull()) {
      if (!display->IsString()) return InvalidValue("\"members.display\" must be a string");
      ref.display = std::string(json::View(*display));
    }
    return ref;
  }

  Result<std::vector<MemberRef>> ParseMembers(const json::Value& v) {
    std::vector<MemberRef> out;
    if (v.IsNull()) return out;
    if (v.IsArray()) {
      for (const auto& element : v.GetArray()) {
        auto ref = ParseMember(element);
        if (!ref.ok()) return ref.error();
        out.push_back(std::move(*ref));
      }
      return out;
    }
    auto ref = ParseMember(v);
    if (!ref.ok()) return ref.error();
    out.push_back(std::move(*ref));
    return out;
  }

  void DeltaAdd(const MemberRef& ref) {
    removed_.erase(ref.value);
    auto it = added_.find(ref.value);
    if (it == added_.end()) {
      added_.emplace(ref.value, ref);
      added_order_.push_back(ref.value);
    } else {
      if (!ref.type.empty()) it->second.type = ref.type;
      if (!ref.display.empty()) it->second.display = ref.display;
    }
  }

  void DeltaRemove(const std::string& id) {
    added_.erase(id);
    if (!clear_first_ && removed_.insert(id).second) removed_order_.push_back(id);
  }

  void DeltaClear(bool replace) {
    clear_first_ = true;
    replace_all_ = replace;
    remove_all_ = !replace;
    added_.clear();
    added_order_.clear();
    removed_.clear();
    removed_order_.clear();
  }

  // The members as they stand after the operations so far (loads the stored list once).
  Result<std::vector<MemberRef>> EffectiveMembers() {
    if (!loaded_) {
      if (!load_members_) return Error(ErrorCode::kInternal, "no member loader");
      auto members = load_members_();
      if (!members.ok()) return members.error();
      loaded_members_ = std::move(*members);
      loaded_ = true;
    }
    std::vector<MemberRef> out;
    std::unordered_set<std::string> seen;
    if (!clear_first_) {
      for (const MemberRef& m : loaded_members_) {
        if (removed_.count(m.value) || !seen.insert(m.value).second) continue;
        auto it = added_.find(m.value);
        out.push_back(it == added_.end() ? m : it->second);
      }
    }
    for (const std::string& id : added_order_) {
      auto it = added_.find(id);
      if (it != added_.end() && seen.insert(id).second) out.push_back(it->second);
    }
    return out;
  }

  Result<std::vector<std::string>> SelectMembers(const Target& t) {
    auto members = EffectiveMembers();
    if (!members.ok()) return members.error();
    std::vector<std::string> ids;
    json::Document scratch;
    for (const MemberRef& m : *members) {
      json::Value element(rapidjson::kObjectType);
      element.AddMember("value", json::String(m.value, scratch.GetAllocator()),
                        scratch.GetAllocator());
      if (!m.type.empty()) {
        element.AddMember("type", json::String(m.type, scratch.GetAllocator()),
                          scratch.GetAllocator());
      }
      if (!m.display.empty()) {
        element.AddMember("display", json::String(m.display, scratch.GetAllocator()),
                          scratch.GetAllocator());
      }
      if (filter::MatchesElement(*t.filter, element)) ids.push_back(m.value);
    }
    return ids;
  }

  Status ApplyMembers(OpKind kind, const Target& t, const json::Value* value) {
    if (t.sub != nullptr) {
      return InvalidPath(
          "sub-attributes of \"members\" cannot be patched; add or remove the member");
    }
    if (kind == OpKind::kAdd) {
      if (t.filter) return InvalidPath("add takes \"members\" without a value filter");
      auto refs = ParseMembers(*value);
      if (!refs.ok()) return refs.error();
      for (const MemberRef& ref : *refs) DeltaAdd(ref);
      return OkStatus();
    }
    if (kind == OpKind::kReplace) {
      if (!t.filter) {
        auto refs = ParseMembers(*value);
        if (!refs.ok()) return refs.error();
        DeltaClear(/*replace=*/true);
        for (const MemberRef& ref : *refs) DeltaAdd(ref);
        return OkStatus();
      }
      auto ids = SelectMembers(t);
      if (!ids.ok()) return ids.error();
      if (ids->empty()) return NoTarget("no member matches \"" + t.text + "\"");
      auto refs = ParseMembers(*value);
      if (!refs.ok()) return refs.error();
      for (const std::string& id : *ids) DeltaRemove(id);
      for (const MemberRef& ref : *refs) DeltaAdd(ref);
      return OkStatus();
    }
    // remove
    if (!t.filter) {
      if (value == nullptr || value->IsNull()) {
        DeltaClear(/*replace=*/false);
        return OkStatus();
      }
      // Entra ID: {"op":"Remove","path":"members","value":[{"value":"ID"}]}.
      auto refs = ParseMembers(*value);
      if (!refs.ok()) return refs.error();
      for (const MemberRef& ref : *refs) DeltaRemove(ref.value);
      return OkStatus();
    }
    if (auto id = SingleValueEq(*t.filter)) {
      DeltaRemove(*id);  // no need to know the current members
      return OkStatus();
    }
    auto ids = SelectMembers(t);
    if (!ids.ok()) return ids.error();
    for (const std::string& id : *ids) DeltaRemove(id);
    return OkStatus();
  }

  MemberDelta BuildDelta() const {
    MemberDelta delta;
    delta.replace_all = replace_all_;
    delta.remove_all = remove_all_;
    std::unordered_set<std::string> emitted;
    for (const std::string& id : added_order_) {
      auto it = added_.find(id);
      if (it != added_.end() && emitted.insert(id).second) delta.added.push_back(it->second);
    }
    for (const std::string& id : removed_order_) {
      if (removed_.count(id) && emitted.insert(id).second) delta.removed.push_back(id);
    }
    return delta;
  }

  // -- schemas maintenance for extensions.

  // Removes the extension object when it is empty and, when the extension's attributes changed,
  // adds its URN to `schemas` or removes it (unless the extension is required).
  void SyncExtension(const std::string& urn, bool changed) {
    json::Value* ext = json::FindMemberCI(work_, urn);
    bool present = ext != nullptr && ext->IsObject() && ext->MemberCount() > 0;
    if (ext != nullptr && !present) json::RemoveMemberCI(work_, urn);
    if (!changed) return;
    bool required = false;
    for (const auto& ref : type_.extensions) {
      if (EqualsIgnoreCase(ref.schema, urn)) required = ref.required;
    }
    json::Value* schemas = json::FindMemberCI(work_, "schemas");
    if (schemas == nullptr || !schemas->IsArray()) {
      if (!present) return;
      json::Value array(rapidjson::kArrayType);
      array.PushBack(json::String(type_.schema, alloc_), alloc_);
      SetMember(work_, "schemas", array, alloc_);
      schemas = json::FindMemberCI(work_, "schemas");
    }
    size_t found = schemas->Size();
    for (size_t i = 0; i < schemas->Size(); ++i) {
      const json::Value& s = (*schemas)[i];
      if (s.IsString() && EqualsIgnoreCase(json::View(s), urn)) found = i;
    }
    if (present && found == schemas->Size()) {
      schemas->PushBack(json::String(urn, alloc_), alloc_);
    } else if (!present && !required && found < schemas->Size()) {
      schemas->Erase(schemas->Begin() + found);
    }
  }

  const schema::Registry& registry_;
  const schema::ResourceType& type_;
  json::Document& work_;
  json::Allocator& alloc_;
  Coercer coercer_;
  const MemberLoader& load_members_;
  json::Document scratch_;  // snapshots of attributes before each operation

  static void AddOnce(std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
  }

  std::vector<std::string> changed_;
  std::vector<std::string> changed_extensions_;  // extensions whose attributes changed
  std::vector<std::string> created_extensions_;  // extension objects created by this request

  // Member delta state.
  bool clear_first_ = false;
  bool replace_all_ = false;
  bool remove_all_ = false;
  std::unordered_map<std::string, MemberRef> added_;
  std::vector<std::string> added_order_;
  std::unordered_set<std::string> removed_;
  std::vector<std::string> removed_order_;
  bool loaded_ = false;
  std::vector<MemberRef> loaded_members_;
};

std::string Prefixed(size_t index, const Error& error) {
  return "Operations[" + std::to_string(index) + "]: " + error.detail;
}

}  // namespace

Result<PatchOutcome> ApplyPatch(const schema::Registry& registry, const schema::ResourceType& type,
                                const json::Value& patch_request, json::Document& resource,
                                const MemberLoader& load_members) {
  if (!patch_request.IsObject()) {
    return Error(ErrorCode::kInvalidSyntax, "a PATCH request body must be a JSON object");
  }
  const json::Value* schemas = json::FindMemberCI(patch_request, "schemas");
  bool has_schema = false;
  if (schemas != nullptr && schemas->IsArray()) {
    for (const auto& s : schemas->GetArray()) {
      if (s.IsString() && EqualsIgnoreCase(json::View(s), schema::kPatchOpSchema))
        has_schema = true;
    }
  }
  if (!has_schema) {
    return Error(ErrorCode::kInvalidSyntax,
                 "\"schemas\" must contain \"" + std::string(schema::kPatchOpSchema) + "\"");
  }
  const json::Value* operations = json::FindMemberCI(patch_request, "Operations");
  if (operations == nullptr || !operations->IsArray() || operations->Empty()) {
    return Error(ErrorCode::kInvalidSyntax, "\"Operations\" must be a non-empty array");
  }
  if (!resource.IsObject()) return Error(ErrorCode::kInternal, "the resource is not an object");

  // All operations apply to a copy; the resource is only swapped in when every one succeeded
  // (§3.5.2: "If a single operation encounters an error condition, the original SCIM resource
  // MUST be restored").
  json::Document work;
  work.CopyFrom(resource, work.GetAllocator());
  Engine engine(registry, type, work, load_members);
  for (rapidjson::SizeType i = 0; i < operations->Size(); ++i) {
    Status status = engine.ApplyOperation((*operations)[i]);
    if (!status.ok()) return Error(status.error().code, Prefixed(i, status.error()));
  }
  PatchOutcome outcome = engine.Finish();
  // Re-validate the whole result as a PUT of it would be (types, canonical values, required
  // attributes, string sizes, one primary, immutability against the stored resource); the
  // normalized copy is only used as a check, since it drops id, meta and readOnly attributes.
  if (outcome.modified) {
    json::Document normalized;
    Status valid = schema::NormalizeResource(registry, type, work, schema::WriteMode::kReplace,
                                             &resource, normalized);
    if (!valid.ok()) return valid.error();
  }
  resource.Swap(work);
  return outcome;
}

}  // namespace scim::patch
