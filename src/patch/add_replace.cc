// The add (RFC 7644 §3.5.2.1) and replace (§3.5.2.3) operations on attributes other than group
// members: whole attributes, sub-attributes of singular complex attributes, and the elements a
// value filter selects (or the new element it describes when it selects none).

#include "patch/attribute_ops.h"
#include "patch/json_values.h"
#include "scim/common/strings.h"

namespace scim::patch::internal {

using schema::Attribute;
using schema::AttributeType;

namespace {

// Whether writing `coerced` (the value for t.sub when set, else a whole element) sets "primary"
// to true.
bool SetsPrimary(const Target& t, const json::Value& coerced) {
  if (t.sub == nullptr) return IsPrimary(coerced);
  return EqualsIgnoreCase(t.sub->name, "primary") && coerced.IsBool() && coerced.GetBool();
}

}  // namespace

// §3.5.2.1.
Status AttributeWriter::Add(const Target& t, const json::Value& value,
                            std::vector<size_t>& made_primary) {
  if (t.filter) return WriteFiltered(OpKind::kAdd, t, value, made_primary);
  if (t.sub != nullptr) {
    return SubWithoutFilter(t, value,
                            ", e.g. " + t.attr->name + "[type eq \"work\"]." + t.sub->name);
  }
  SCIM_TRY(auto coerced, coercer_.Whole(*t.attr, value, t.qualified));
  if (t.attr->multi_valued) return AddElements(t, coerced, made_primary);
  return SetOrMerge(t, coerced);
}

// §3.5.2.3.
Status AttributeWriter::Replace(const Target& t, const json::Value& value,
                                std::vector<size_t>& made_primary) {
  if (t.filter) return WriteFiltered(OpKind::kReplace, t, value, made_primary);
  if (t.sub != nullptr) return SubWithoutFilter(t, value, "");
  SCIM_TRY(auto coerced, coercer_.Whole(*t.attr, value, t.qualified));
  if (t.attr->multi_valued) return ReplaceElements(t, coerced, made_primary);
  return SetOrMerge(t, coerced);
}

// "If the target location specifies a multi-valued attribute, a new value is added to the
// attribute"; "If the target location already contains the value specified, no changes SHOULD be
// made": a given element equal to an existing one (SameElement) is merged into it.
Status AttributeWriter::AddElements(const Target& t, json::Value& elements,
                                    std::vector<size_t>& made_primary) {
  json::Value& array = ws_.ArrayOf(t);
  for (auto& element : elements.GetArray()) {
    size_t i = 0;
    while (i < array.Size() && !SameElement(*t.attr, array[i], element)) ++i;
    if (IsPrimary(element)) made_primary.push_back(i);
    if (i == array.Size()) {
      array.PushBack(element, ws_.alloc());
    } else if (array[i].IsObject() && element.IsObject()) {
      MergeObject(array[i], element, ws_.alloc());
    }
  }
  return OkStatus();
}

// "If the target location is a multi-valued attribute and no filter is specified, the attribute
// and all values are replaced."
Status AttributeWriter::ReplaceElements(const Target& t, json::Value& elements,
                                        std::vector<size_t>& made_primary) {
  for (size_t i = 0; i < elements.Size(); ++i) {
    if (IsPrimary(elements[i])) made_primary.push_back(i);
  }
  ws_.Set(t, elements);
  return OkStatus();
}

// attr.sub without a value filter: fine for singular complex attributes; for a multi-valued one
// it would name the sub-attribute of every value (`hint` ends the error detail).
Status AttributeWriter::SubWithoutFilter(const Target& t, const json::Value& value,
                                         const std::string& hint) {
  if (t.attr->multi_valued) {
    return InvalidPath("\"" + t.text + "\" names a sub-attribute of every value of " +
                       t.attr->name + "; select values with a filter" + hint);
  }
  return SetSub(t, value);
}

// With a value filter: the matching elements are updated (add merges a whole element into each,
// replace replaces it). When none matches, add creates the element the filter describes; replace
// does too when the attribute has no value at all, else fails (see below).
Status AttributeWriter::WriteFiltered(OpKind kind, const Target& t, const json::Value& value,
                                      std::vector<size_t>& made_primary) {
  SCIM_TRY(auto coerced,
           t.sub ? coercer_.Whole(*t.sub, value, t.qualified + "." + t.sub->name, t.attr)
                 : coercer_.Single(*t.attr, value, t.qualified, false));
  std::vector<size_t> matches = Matching(t, ws_.Current(t));
  if (matches.empty()) {
    // "If the target location is a multi-valued attribute for which a value selection filter
    // ("valuePath") has been supplied and no record match was made, the service provider SHALL
    // indicate failure by returning HTTP status code 400 and a "scimType" error code of
    // "noTarget"." An attribute without any value "does not exist", and "If the target location
    // path specifies an attribute that does not exist, the service provider SHALL treat the
    // operation as an "add"" (Entra ID replaces emails[type eq "work"].value on users created
    // without email).
    if (kind == OpKind::kReplace && !IsEmptyValue(ws_.Current(t))) {
      return NoTarget("no value of \"" + t.attr->name + "\" matches \"" + t.text + "\"");
    }
    return AppendFromFilter(t, coerced, made_primary);
  }
  json::Value& array = *ws_.Current(t);
  bool sets_primary = SetsPrimary(t, coerced);
  for (size_t i : matches) {
    json::Value copy(coerced, ws_.alloc());
    WriteElement(kind, t, array[i], copy);
    if (sets_primary) made_primary.push_back(i);
  }
  return OkStatus();
}

// Writes `value` (moved) into one element a filter matched: as its sub-attribute t.sub; merged
// into it (add); or in its place (replace: "all matching record values SHALL be replaced").
void AttributeWriter::WriteElement(OpKind kind, const Target& t, json::Value& element,
                                   json::Value& value) {
  if (t.sub != nullptr) {
    if (element.IsObject()) SetMember(element, t.sub->name, value, ws_.alloc());
  } else if (kind == OpKind::kAdd && element.IsObject() && value.IsObject()) {
    MergeObject(element, value, ws_.alloc());
  } else {
    element.Swap(value);
  }
}

Status AttributeWriter::AppendFromFilter(const Target& t, json::Value& value,
                                         std::vector<size_t>& made_primary) {
  SCIM_TRY(auto element, ElementFromFilter(t, coercer_, &value, ws_.alloc()));
  json::Value& array = ws_.ArrayOf(t);
  if (IsPrimary(element)) made_primary.push_back(array.Size());
  array.PushBack(element, ws_.alloc());
  return OkStatus();
}

// Complex singular attributes are merged (§3.5.2.1, and §3.5.2.3: "Sub-attributes that are not
// specified in the "value" parameter are left unchanged"); simple ones replaced.
Status AttributeWriter::SetOrMerge(const Target& t, json::Value& coerced) {
  json::Value* cur = ws_.Current(t);
  if (t.attr->type == AttributeType::kComplex && cur != nullptr && cur->IsObject() &&
      coerced.IsObject()) {
    MergeObject(*cur, coerced, ws_.alloc());
  } else {
    ws_.Set(t, coerced);
  }
  return OkStatus();
}

// Sets the sub-attribute t.sub of a singular complex attribute, creating the attribute if needed.
Status AttributeWriter::SetSub(const Target& t, const json::Value& value) {
  SCIM_TRY(auto coerced, coercer_.Whole(*t.sub, value, t.qualified + "." + t.sub->name, t.attr));
  json::Value* cur = ws_.Current(t);
  if (cur == nullptr || !cur->IsObject()) {
    json::Value object(rapidjson::kObjectType);
    ws_.Set(t, object);
    cur = ws_.Current(t);
  }
  SetMember(*cur, t.sub->name, coerced, ws_.alloc());
  return OkStatus();
}

}  // namespace scim::patch::internal
