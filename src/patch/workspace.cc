// The working copy of a patched resource: attribute access through the core or extension object,
// and the upkeep of `schemas` for extensions.

#include "patch/workspace.h"

#include <algorithm>

#include "patch/json_values.h"
#include "scim/common/strings.h"

namespace scim::patch::internal {

json::Value* Workspace::Container(const Target& t, bool create) {
  if (t.ext_urn.empty()) return &work_;
  json::Value* ext = json::FindMemberCI(work_, t.ext_urn);
  if (ext != nullptr && ext->IsObject()) return ext;
  if (!create) return nullptr;
  AddOnce(created_extensions_, t.ext_urn);
  json::Value object(rapidjson::kObjectType);
  SetMember(work_, t.ext_urn, object, alloc_);
  return json::FindMemberCI(work_, t.ext_urn);
}

json::Value* Workspace::Current(const Target& t) {
  json::Value* container = Container(t, false);
  return container ? json::FindMemberCI(*container, t.attr->name) : nullptr;
}

void Workspace::Set(const Target& t, json::Value& value) {
  SetMember(*Container(t, true), t.attr->name, value, alloc_);
}

void Workspace::Erase(const Target& t) {
  json::Value* container = Container(t, false);
  if (container != nullptr) json::RemoveMemberCI(*container, t.attr->name);
}

json::Value& Workspace::ArrayOf(const Target& t) {
  json::Value* cur = Current(t);
  if (cur == nullptr || !cur->IsArray()) {
    json::Value empty(rapidjson::kArrayType);
    Set(t, empty);
    cur = Current(t);
  }
  return *cur;
}

void Workspace::SyncExtensions(const std::vector<std::string>& changed) {
  for (const std::string& urn : changed) SyncExtension(urn, true);
  for (const std::string& urn : created_extensions_) {
    if (std::find(changed.begin(), changed.end(), urn) == changed.end()) {
      SyncExtension(urn, false);
    }
  }
}

// Removes the extension object when it is empty and, when the extension's attributes changed,
// adds its URN to `schemas` or removes it (unless the extension is required).
void Workspace::SyncExtension(const std::string& urn, bool changed) {
  json::Value* ext = json::FindMemberCI(work_, urn);
  bool present = ext != nullptr && ext->IsObject() && ext->MemberCount() > 0;
  if (ext != nullptr && !present) json::RemoveMemberCI(work_, urn);
  if (!changed) return;
  json::Value* schemas = SchemasArray(present);
  if (schemas == nullptr) return;
  size_t found = schemas->Size();
  for (size_t i = 0; i < schemas->Size(); ++i) {
    const json::Value& s = (*schemas)[i];
    if (s.IsString() && EqualsIgnoreCase(json::View(s), urn)) found = i;
  }
  if (present && found == schemas->Size()) {
    schemas->PushBack(json::String(urn, alloc_), alloc_);
  } else if (!present && !IsRequiredExtension(urn) && found < schemas->Size()) {
    schemas->Erase(schemas->Begin() + found);
  }
}

bool Workspace::IsRequiredExtension(const std::string& urn) const {
  bool required = false;
  for (const auto& ref : type_.extensions) {
    if (EqualsIgnoreCase(ref.schema, urn)) required = ref.required;
  }
  return required;
}

// The `schemas` array; when missing or not an array, a new one holding the core schema if
// `create`, else nullptr.
json::Value* Workspace::SchemasArray(bool create) {
  json::Value* schemas = json::FindMemberCI(work_, "schemas");
  if (schemas != nullptr && schemas->IsArray()) return schemas;
  if (!create) return nullptr;
  json::Value array(rapidjson::kArrayType);
  array.PushBack(json::String(type_.schema, alloc_), alloc_);
  SetMember(work_, "schemas", array, alloc_);
  return json::FindMemberCI(work_, "schemas");
}

}  // namespace scim::patch::internal
