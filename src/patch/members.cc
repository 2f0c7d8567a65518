// Group membership changes of a PATCH request, collected as a MemberDelta instead of being
// written into the resource.

#include "patch/members.h"

#include "scim/common/strings.h"
#include "scim/filter/evaluator.h"

namespace scim::patch::internal {

namespace {

// An optional string member of a member value ("type", "display"): empty when absent or null.
Status OptionalString(const json::Value& v, const char* name, std::string& out) {
  const json::Value* member = json::FindMemberCI(v, name);
  if (member == nullptr || member->IsNull()) return OkStatus();
  if (!member->IsString()) {
    return InvalidValue("\"members." + std::string(name) + "\" must be a string");
  }
  out = std::string(json::View(*member));
  return OkStatus();
}

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
  SCIM_RETURN_IF_ERROR(OptionalString(v, "type", ref.type));
  SCIM_RETURN_IF_ERROR(OptionalString(v, "display", ref.display));
  return ref;
}

// The member values of an operation: an array of them, one of them, or none (null).
Result<std::vector<MemberRef>> ParseMembers(const json::Value& v) {
  std::vector<MemberRef> out;
  if (v.IsNull()) return out;
  if (!v.IsArray()) {
    SCIM_TRY(auto ref, ParseMember(v));
    out.push_back(std::move(ref));
    return out;
  }
  for (const auto& element : v.GetArray()) {
    SCIM_TRY(auto ref, ParseMember(element));
    out.push_back(std::move(ref));
  }
  return out;
}

// A member as the JSON element a value filter is evaluated on.
json::Value MemberElement(const MemberRef& m, json::Allocator& alloc) {
  json::Value element(rapidjson::kObjectType);
  element.AddMember("value", json::String(m.value, alloc), alloc);
  if (!m.type.empty()) element.AddMember("type", json::String(m.type, alloc), alloc);
  if (!m.display.empty()) element.AddMember("display", json::String(m.display, alloc), alloc);
  return element;
}

}  // namespace

Status MemberChanges::Apply(OpKind kind, const Target& t, const json::Value* value) {
  if (t.sub != nullptr) {
    return InvalidPath("sub-attributes of \"members\" cannot be patched; add or remove the member");
  }
  switch (kind) {
    case OpKind::kAdd:
      return Add(t, *value);
    case OpKind::kReplace:
      return Replace(t, *value);
    case OpKind::kRemove:
      break;
  }
  return Remove(t, value);
}

Status MemberChanges::Add(const Target& t, const json::Value& value) {
  if (t.filter) return InvalidPath("add takes \"members\" without a value filter");
  SCIM_TRY(auto refs, ParseMembers(value));
  for (const MemberRef& ref : refs) DeltaAdd(ref);
  return OkStatus();
}

// Without a filter: the new full list. With one: the selected members are replaced by the value.
Status MemberChanges::Replace(const Target& t, const json::Value& value) {
  if (!t.filter) {
    SCIM_TRY(auto refs, ParseMembers(value));
    DeltaClear(/*replace=*/true);
    for (const MemberRef& ref : refs) DeltaAdd(ref);
    return OkStatus();
  }
  SCIM_TRY(auto ids, SelectMembers(t));
  if (ids.empty()) return NoTarget("no member matches \"" + t.text + "\"");
  SCIM_TRY(auto refs, ParseMembers(value));
  for (const std::string& id : ids) DeltaRemove(id);
  for (const MemberRef& ref : refs) DeltaAdd(ref);
  return OkStatus();
}

Status MemberChanges::Remove(const Target& t, const json::Value* value) {
  if (!t.filter) {
    if (value == nullptr || value->IsNull()) {
      DeltaClear(/*replace=*/false);
      return OkStatus();
    }
    // Entra ID: {"op":"Remove","path":"members","value":[{"value":"ID"}]}.
    SCIM_TRY(auto refs, ParseMembers(*value));
    for (const MemberRef& ref : refs) DeltaRemove(ref.value);
    return OkStatus();
  }
  if (auto id = SingleValueEq(*t.filter)) {
    DeltaRemove(*id);  // no need to know the current members
    return OkStatus();
  }
  SCIM_TRY(auto ids, SelectMembers(t));
  for (const std::string& id : ids) DeltaRemove(id);
  return OkStatus();
}

void MemberChanges::DeltaAdd(const MemberRef& ref) {
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

void MemberChanges::DeltaRemove(const std::string& id) {
  added_.erase(id);
  if (!clear_first_ && removed_.insert(id).second) removed_order_.push_back(id);
}

void MemberChanges::DeltaClear(bool replace) {
  clear_first_ = true;
  replace_all_ = replace;
  remove_all_ = !replace;
  added_.clear();
  added_order_.clear();
  removed_.clear();
  removed_order_.clear();
}

// The members as they stand after the operations so far (loads the stored list once).
Result<std::vector<MemberRef>> MemberChanges::EffectiveMembers() {
  if (!loaded_) {
    if (!load_members_) return Error(ErrorCode::kInternal, "no member loader");
    SCIM_TRY(auto members, load_members_());
    loaded_members_ = std::move(members);
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

// The ids of the current members the value filter of `t` matches.
Result<std::vector<std::string>> MemberChanges::SelectMembers(const Target& t) {
  SCIM_TRY(auto members, EffectiveMembers());
  std::vector<std::string> ids;
  json::Document scratch;
  for (const MemberRef& m : members) {
    json::Value element = MemberElement(m, scratch.GetAllocator());
    if (filter::MatchesElement(*t.filter, element)) ids.push_back(m.value);
  }
  return ids;
}

MemberDelta MemberChanges::Build() const {
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

}  // namespace scim::patch::internal
