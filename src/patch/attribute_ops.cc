// Applying one operation to an attribute other than group members: a snapshot before, the write
// (add_replace.cc, remove.cc), then the checks on what changed: mutability, required attributes
// and sub-attributes, and one "primary" value.

#include "patch/attribute_ops.h"

#include <optional>

#include "patch/json_values.h"

namespace scim::patch::internal {

using schema::Attribute;
using schema::AttributeType;
using schema::Mutability;

Result<bool> AttributeWriter::Apply(OpKind kind, const Target& t, const json::Value* value) {
  if (kind == OpKind::kRemove) SCIM_RETURN_IF_ERROR(CheckRemovable(t));
  // Snapshot the attribute to check mutability and detect a change afterwards.
  json::Value before;
  const json::Value* cur = ws_.Current(t);
  bool had_before = !IsEmptyValue(cur);
  if (cur != nullptr) before.CopyFrom(*cur, scratch_.GetAllocator());

  // Elements of a multi-valued attribute this operation set "primary": true on.
  std::vector<size_t> made_primary;
  SCIM_RETURN_IF_ERROR(Write(kind, t, value, made_primary));

  const json::Value* after = ws_.Current(t);
  bool has_after = !IsEmptyValue(after);
  if (after != nullptr && !has_after) {
    ws_.Erase(t);  // an empty array or object is unassigned
    after = nullptr;
  }
  bool changed = had_before != has_after || (had_before && !(before == *after));
  if (!changed) return false;
  SCIM_RETURN_IF_ERROR(CheckMutability(t, had_before ? &before : nullptr));
  SCIM_RETURN_IF_ERROR(CheckResult(kind, t, after));
  if (has_after && t.attr->multi_valued && !made_primary.empty()) {
    SCIM_RETURN_IF_ERROR(EnforcePrimary(t, made_primary));
  }
  return true;
}

Status AttributeWriter::Write(OpKind kind, const Target& t, const json::Value* value,
                              std::vector<size_t>& made_primary) {
  if (kind == OpKind::kRemove || value == nullptr || value->IsNull()) {
    // null is "unassigned" (RFC 7643 §2.5): add/replace of null removes.
    return Remove(t, kind == OpKind::kRemove ? value : nullptr);
  }
  if (kind == OpKind::kAdd) return Add(t, *value, made_primary);
  return Replace(t, *value, made_primary);
}

// §3.5.2.2: removing a required or readOnly attribute is a "mutability" error, whether or not it
// currently has a value.
Status AttributeWriter::CheckRemovable(const Target& t) const {
  if (t.attr->mutability == Mutability::kReadOnly ||
      (t.sub != nullptr && t.sub->mutability == Mutability::kReadOnly)) {
    return MutabilityError("\"" + t.text + "\" is readOnly and cannot be removed");
  }
  if (t.attr->required && t.sub == nullptr && !t.filter) {
    return MutabilityError("attribute \"" + t.qualified + "\" is required");
  }
  return OkStatus();
}

// RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability "readOnly" or
// "immutable". However, a client MAY "add" a value to an "immutable" attribute if the attribute
// had no previous value." `before` is the previous value, nullptr when there was none.
Status AttributeWriter::CheckMutability(const Target& t, const json::Value* before) const {
  const Attribute& attr = *t.attr;
  if (attr.mutability == Mutability::kReadOnly) {
    return MutabilityError("attribute \"" + t.qualified + "\" is readOnly");
  }
  if (attr.mutability == Mutability::kImmutable && before != nullptr) {
    return MutabilityError("attribute \"" + t.qualified + "\" is immutable and already set");
  }
  if (t.sub == nullptr) return OkStatus();
  if (t.sub->mutability == Mutability::kReadOnly) {
    return MutabilityError("sub-attribute \"" + t.qualified + "." + t.sub->name + "\" is readOnly");
  }
  if (t.sub->mutability == Mutability::kImmutable && !attr.multi_valued && before != nullptr &&
      before->IsObject() && !IsEmptyValue(json::FindMemberCI(*before, t.sub->name))) {
    return MutabilityError("sub-attribute \"" + t.qualified + "." + t.sub->name +
                           "\" is immutable and already set");
  }
  return OkStatus();
}

// §3.5.2.2: "If an attribute is removed or becomes unassigned and is defined as a required
// attribute or a read-only attribute, the server SHALL return ... "mutability"." `after` is the
// new value, nullptr when there is none.
Status AttributeWriter::CheckResult(OpKind kind, const Target& t, const json::Value* after) const {
  if (t.attr->required && after == nullptr) {
    return MutabilityError("attribute \"" + t.qualified + "\" is required");
  }
  if (t.attr->required && after->IsString() && after->GetStringLength() == 0) {
    return InvalidValue("attribute \"" + t.qualified + "\" is required and cannot be empty");
  }
  if (after != nullptr) return CheckRequiredSubs(t, *after, kind);
  return OkStatus();
}

// Every complex value must keep its required sub-attributes.
Status AttributeWriter::CheckRequiredSubs(const Target& t, const json::Value& value,
                                          OpKind kind) const {
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

// §3.5.2: "a PATCH operation that sets a value's "primary" sub-attribute to "true" SHALL cause the
// server to automatically set "primary" to "false" for any other values in the array."
// `made_primary` lists the elements the operation set "primary": true on (an index may repeat
// when several given values merged into one element); only those still primary count. Values
// that were primary before and were merged or re-sent without "primary" do not count: they lose
// the flag like any other value. Two different elements made primary → kInvalidValue, as for a
// PUT (RFC 7643 §2.4).
Status AttributeWriter::EnforcePrimary(const Target& t, const std::vector<size_t>& made_primary) {
  json::Value* array = ws_.Current(t);
  if (array == nullptr || !array->IsArray()) return OkStatus();
  std::optional<size_t> primary;
  for (size_t i : made_primary) {
    if (i >= array->Size() || !IsPrimary((*array)[i]) || primary == i) continue;
    if (primary) {
      return InvalidValue("more than one value of \"" + t.qualified + "\" is marked primary");
    }
    primary = i;
  }
  if (!primary) return OkStatus();
  for (size_t i = 0; i < array->Size(); ++i) {
    json::Value& element = (*array)[i];
    if (i == *primary || !IsPrimary(element)) continue;
    json::Value f(false);
    SetMember(element, "primary", f, ws_.alloc());
  }
  return OkStatus();
}

}  // namespace scim::patch::internal
