#include <algorithm>

#include "scim/common/strings.h"
#include "store/change_record.h"

namespace scim::store {

namespace {

bool Hidden(const std::string& key) {
  return key == "meta" || key == "id" || EqualsIgnoreCase(key, "password");
}

void AddChange(json::Value& list, const std::string& path, const json::Value* old_value,
               const json::Value* new_value, json::Allocator& alloc) {
  json::Value item(rapidjson::kObjectType);
  item.AddMember("attribute", json::String(path, alloc), alloc);
  item.AddMember("old", old_value ? json::Value(*old_value, alloc) : json::Value(), alloc);
  item.AddMember("new", new_value ? json::Value(*new_value, alloc) : json::Value(), alloc);
  list.PushBack(item, alloc);
}

const json::Value* Field(const json::Value* object, const std::string& key) {
  if (object == nullptr || !object->IsObject()) return nullptr;
  auto it = object->FindMember(key.c_str());
  return it == object->MemberEnd() ? nullptr : &it->value;
}

// Keys of `a` then those of `b` not in `a`, in order.
std::vector<std::string> UnionKeys(const json::Value* a, const json::Value* b) {
  std::vector<std::string> keys;
  for (const json::Value* v : {a, b}) {
    if (v == nullptr || !v->IsObject()) continue;
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  return keys;
}

void DiffObjects(const json::Value* before, const json::Value* after, const std::string& prefix,
                 int depth, json::Value& list, json::Allocator& alloc) {
  for (const std::string& key : UnionKeys(before, after)) {
    if (Hidden(key)) continue;
    const json::Value* old_value = Field(before, key);
    const json::Value* new_value = Field(after, key);
    if (old_value && new_value && *old_value == *new_value) continue;
    std::string path = prefix.empty()                 ? key
                       : prefix.rfind("urn:", 0) == 0 ? prefix + ":" + key
                                                      : prefix + "." + key;
    bool both_objects = (old_value == nullptr || old_value->IsObject()) &&
                        (new_value == nullptr || new_value->IsObject());
    if (depth == 0 && both_objects) {
      DiffObjects(old_value, new_value, path, depth + 1, list, alloc);
    } else {
      AddChange(list, path, old_value, new_value, alloc);
    }
  }
}

json::Value MemberIds(const std::vector<Member>& members, json::Allocator& alloc) {
  json::Value ids(rapidjson::kArrayType);
  for (const Member& m : members) ids.PushBack(json::String(m.id, alloc), alloc);
  return ids;
}

}  // namespace

std::string AuditChanges(const json::Value* before, const json::Value* after, bool password_changed,
                         const MembershipDelta* members) {
  json::Document doc(rapidjson::kArrayType);
  auto& alloc = doc.GetAllocator();
  DiffObjects(before, after, "", 0, doc, alloc);
  if (password_changed) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("attribute", "password", alloc);
    item.AddMember("changed", true, alloc);
    doc.PushBack(item, alloc);
  }
  if (members != nullptr && (!members->empty() || members->replaced)) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("attribute", "members", alloc);
    item.AddMember("added", MemberIds(members->added, alloc), alloc);
    item.AddMember("removed", MemberIds(members->removed, alloc), alloc);
    doc.PushBack(item, alloc);
  }
  return json::Serialize(doc);
}
}  // namespace scim::store
