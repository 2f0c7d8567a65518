// The remove operation (RFC 7644 §3.5.2.2) on attributes other than group members: the whole
// attribute, the listed values (Entra ID), a sub-attribute, or the elements a value filter
// selects.

#include "patch/attribute_ops.h"
#include "patch/json_values.h"
#include "scim/common/strings.h"

namespace scim::patch::internal {

// `value` is only looked at for attribute-level removes of multi-valued attributes.
Status AttributeWriter::Remove(const Target& t, const json::Value* value) {
  json::Value* cur = ws_.Current(t);
  if (cur == nullptr) return OkStatus();
  if (t.filter) return RemoveFiltered(t, *cur);
  if (t.sub != nullptr) return RemoveSub(t, *cur);
  if (t.attr->multi_valued && value != nullptr && !value->IsNull() && cur->IsArray()) {
    return RemoveValues(t, *cur, *value);
  }
  ws_.Erase(t);
  return OkStatus();
}

// Entra ID style: {"op": "Remove", "path": "emails", "value": [...]} removes the listed values
// only (each element that contains all the members of a given value).
Status AttributeWriter::RemoveValues(const Target& t, json::Value& array,
                                     const json::Value& value) {
  SCIM_TRY(auto given, coercer_.Whole(*t.attr, value, t.qualified));
  for (size_t i = array.Size(); i-- > 0;) {
    for (const auto& g : given.GetArray()) {
      if (ElementContains(*t.attr, array[i], g)) {
        array.Erase(array.Begin() + i);
        break;
      }
    }
  }
  return OkStatus();
}

// attr.sub without a filter: the sub-attribute of a singular complex attribute, or of every
// element of a multi-valued one (removing `value` of every element removes the attribute).
Status AttributeWriter::RemoveSub(const Target& t, json::Value& current) {
  if (!t.attr->multi_valued) {
    if (current.IsObject()) json::RemoveMemberCI(current, t.sub->name);
    return OkStatus();
  }
  if (!current.IsArray()) return OkStatus();
  if (EqualsIgnoreCase(t.sub->name, "value")) {
    ws_.Erase(t);
    return OkStatus();
  }
  for (size_t i = current.Size(); i-- > 0;) {
    json::Value& element = current[i];
    if (element.IsObject()) json::RemoveMemberCI(element, t.sub->name);
    if (IsEmptyValue(&element)) current.Erase(current.Begin() + i);
  }
  return OkStatus();
}

// With a value filter: "the values matched by the filter are removed". A filter matching nothing
// leaves the resource unchanged, so a retried remove succeeds.
Status AttributeWriter::RemoveFiltered(const Target& t, json::Value& array) {
  std::vector<size_t> matches = Matching(t, &array);
  for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
    json::Value& element = array[*it];
    // Removing the `value` of an element leaves nothing meaningful: remove the element.
    if (t.sub == nullptr || EqualsIgnoreCase(t.sub->name, "value")) {
      array.Erase(array.Begin() + *it);
      continue;
    }
    if (element.IsObject()) json::RemoveMemberCI(element, t.sub->name);
    if (IsEmptyValue(&element)) array.Erase(array.Begin() + *it);
  }
  return OkStatus();
}

}  // namespace scim::patch::internal
