// JSON helpers of the PATCH engine: member setting and merging, and value comparisons driven by
// the attribute definitions.

#include "patch/json_values.h"

#include <algorithm>

#include "scim/common/clock.h"
#include "scim/common/strings.h"

namespace scim::patch::internal {

using schema::Attribute;
using schema::AttributeType;

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

void MergeObject(json::Value& dst, json::Value& src, json::Allocator& alloc) {
  for (auto it = src.MemberBegin(); it != src.MemberEnd(); ++it) {
    SetMember(dst, json::View(it->name), it->value, alloc);
  }
}

namespace {

bool StringEquals(std::string_view a, std::string_view b, bool case_exact) {
  return case_exact ? a == b : FoldCase(a) == FoldCase(b);
}

// Same "type" of two elements: both absent (or null), or equal.
bool SameType(const Attribute& attr, const json::Value& x, const json::Value& y) {
  const json::Value* tx = json::FindMemberCI(x, "type");
  const json::Value* ty = json::FindMemberCI(y, "type");
  bool has_tx = tx != nullptr && !tx->IsNull();
  bool has_ty = ty != nullptr && !ty->IsNull();
  if (has_tx != has_ty) return false;
  if (!has_tx) return true;
  return ScalarEquals(attr.FindSub("type"), *tx, *ty);
}

}  // namespace

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

bool SameElement(const Attribute& attr, const json::Value& x, const json::Value& y) {
  if (attr.type != AttributeType::kComplex) return ScalarEquals(&attr, x, y);
  const Attribute* value_def = attr.FindSub("value");
  if (value_def == nullptr || !x.IsObject() || !y.IsObject()) return x == y;
  const json::Value* vx = json::FindMemberCI(x, "value");
  const json::Value* vy = json::FindMemberCI(y, "value");
  if (vx == nullptr || vy == nullptr) return x == y;
  if (!ScalarEquals(value_def, *vx, *vy)) return false;
  return SameType(attr, x, y);
}

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

bool IsPrimary(const json::Value& element) {
  const json::Value* p = element.IsObject() ? json::FindMemberCI(element, "primary") : nullptr;
  return p != nullptr && p->IsBool() && p->GetBool();
}

void AddOnce(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

}  // namespace scim::patch::internal
