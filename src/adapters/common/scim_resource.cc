#include "adapters/common/scim_resource.h"

#include "scim/common/strings.h"

namespace scim::adapters {
namespace {

std::vector<MemberRef> ParseMembers(const json::Value* list) {
  std::vector<MemberRef> out;
  if (list == nullptr || !list->IsArray()) return out;
  for (const auto& entry : list->GetArray()) {
    MemberRef member;
    if (entry.IsString()) {
      member.value = std::string(json::View(entry));
    } else if (entry.IsObject()) {
      member.value = StringAttr(entry, "value").value_or("");
      member.type = StringAttr(entry, "type").value_or("");
      member.role = StringAttr(entry, "role").value_or("");
    }
    if (member.value.empty()) continue;
    out.push_back(std::move(member));
  }
  return out;
}

}  // namespace

Result<EventPayload> EventPayload::Parse(const events::ChangeEvent& event) {
  EventPayload payload;
  payload.document_ = std::make_shared<json::Document>();
  std::string_view text = event.payload.empty() ? std::string_view("{}") : event.payload;
  if (auto status = json::Parse(text, *payload.document_); !status.ok()) {
    return Error(ErrorCode::kInvalidSyntax, "event payload: " + status.error().detail);
  }
  const json::Document& doc = *payload.document_;
  if (!doc.IsObject()) return Error(ErrorCode::kInvalidSyntax, "event payload is not an object");
  if (auto it = doc.FindMember("resource"); it != doc.MemberEnd() && it->value.IsObject()) {
    payload.resource_ = &it->value;
  }
  if (payload.resource_ == nullptr && event.kind != events::ChangeKind::kDeleted) {
    return Error(ErrorCode::kInvalidSyntax, "event payload has no resource");
  }
  if (auto it = doc.FindMember("active_before"); it != doc.MemberEnd() && it->value.IsBool()) {
    payload.active_before_ = it->value.GetBool();
  }
  if (auto it = doc.FindMember("members"); it != doc.MemberEnd() && it->value.IsObject()) {
    const json::Value& members = it->value;
    payload.members_.present = true;
    if (auto r = members.FindMember("replaced"); r != members.MemberEnd() && r->value.IsBool()) {
      payload.members_.replaced = r->value.GetBool();
    }
    if (auto a = members.FindMember("added"); a != members.MemberEnd()) {
      payload.members_.added = ParseMembers(&a->value);
    }
    if (auto r = members.FindMember("removed"); r != members.MemberEnd()) {
      payload.members_.removed = ParseMembers(&r->value);
    }
  }
  return payload;
}

std::optional<std::string> StringAttr(const json::Value& object, std::string_view name) {
  const json::Value* v = json::FindMemberCI(object, name);
  if (v == nullptr || !v->IsString() || v->GetStringLength() == 0) return std::nullopt;
  return std::string(json::View(*v));
}

std::optional<std::string> PrimaryValue(const json::Value& resource, std::string_view attribute) {
  const json::Value* list = json::FindMemberCI(resource, attribute);
  if (list == nullptr || !list->IsArray()) return std::nullopt;
  std::optional<std::string> first;
  for (const auto& entry : list->GetArray()) {
    if (!entry.IsObject()) continue;
    auto value = StringAttr(entry, "value");
    if (!value) continue;
    const json::Value* primary = json::FindMemberCI(entry, "primary");
    bool is_primary = primary != nullptr &&
                      ((primary->IsBool() && primary->GetBool()) ||
                       (primary->IsString() && EqualsIgnoreCase(json::View(*primary), "true")));
    if (is_primary) return value;
    if (!first) first = value;
  }
  return first;
}

bool IsActive(const json::Value& user) {
  const json::Value* active = json::FindMemberCI(user, "active");
  if (active == nullptr) return true;
  if (active->IsBool()) return active->GetBool();
  if (active->IsString()) return !EqualsIgnoreCase(json::View(*active), "false");
  return true;
}

std::string PersonName(const json::Value& user) {
  if (auto display = StringAttr(user, "displayName")) return *display;
  if (const json::Value* name = json::FindMemberCI(user, "name"); name && name->IsObject()) {
    auto given = StringAttr(*name, "givenName");
    auto family = StringAttr(*name, "familyName");
    if (given || family) {
      std::string full = given.value_or("");
      if (given && family) full += " ";
      full += family.value_or("");
      return full;
    }
    if (auto formatted = StringAttr(*name, "formatted")) return *formatted;
  }
  return StringAttr(user, "userName").value_or("");
}

std::optional<std::string> Department(const json::Value& user) {
  const json::Value* ext = json::FindMemberCI(user, kEnterpriseUserUrn);
  if (ext == nullptr || !ext->IsObject()) return std::nullopt;
  return StringAttr(*ext, "department");
}

const json::Value* GroupExtension(const json::Value& group) {
  const json::Value* ext = json::FindMemberCI(group, kScimdGroupUrn);
  return ext != nullptr && ext->IsObject() ? ext : nullptr;
}

GroupKind KindOfGroup(const json::Value& group) {
  const json::Value* ext = GroupExtension(group);
  if (ext == nullptr) return GroupKind::kPlain;
  auto kind = StringAttr(*ext, "kind");
  if (kind && EqualsIgnoreCase(*kind, "organization")) return GroupKind::kOrganization;
  if (kind && EqualsIgnoreCase(*kind, "store")) return GroupKind::kStore;
  return GroupKind::kPlain;
}

std::optional<std::string> StoreAttr(const json::Value& group, std::string_view name) {
  const json::Value* ext = GroupExtension(group);
  if (ext == nullptr) return std::nullopt;
  const json::Value* v = json::FindMemberCI(*ext, name);
  if (v == nullptr) return std::nullopt;
  if (v->IsString()) return StringAttr(*ext, name);
  if (v->IsObject()) {
    if (auto formatted = StringAttr(*v, "formatted")) return formatted;
    std::string joined;
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
      if (!it->value.IsString() || it->value.GetStringLength() == 0) continue;
      if (!joined.empty()) joined += ", ";
      joined += json::View(it->value);
    }
    if (!joined.empty()) return joined;
  }
  return std::nullopt;
}

}  // namespace scim::adapters
