#include "service/write_input.h"

#include "scim/auth/password.h"

namespace scim::service {

std::optional<std::string> PlainPassword(const json::Value& body) {
  const json::Value* password = body.IsObject() ? json::FindMemberCI(body, "password") : nullptr;
  if (password == nullptr || !password->IsString()) return std::nullopt;
  return std::string(json::View(*password));
}

Result<WriteInput> ExtractWriteInput(json::Value& resource, const PasswordHashes* prehashed) {
  WriteInput input;
  if (auto* password = json::FindMemberCI(resource, "password")) {
    if (password->IsString() && prehashed != nullptr) {
      auto known = prehashed->find(std::string(json::View(*password)));
      if (known != prehashed->end()) input.password_hash = known->second;
    }
    if (password->IsString() && !input.password_hash) {
      SCIM_TRY(auto hash, auth::HashPassword(json::View(*password)));
      input.password_hash = hash;
    }
    json::RemoveMemberCI(resource, "password");
  }
  if (auto* members = json::FindMemberCI(resource, "members")) {
    input.has_members = true;
    if (members->IsArray()) {
      for (const auto& m : members->GetArray()) {
        auto value = m.IsObject() ? m.FindMember("value") : m.MemberEnd();
        if (!m.IsObject() || value == m.MemberEnd() || !value->value.IsString()) {
          return Error(ErrorCode::kInvalidValue, "every member needs a string \"value\"");
        }
        input.members.push_back({std::string(json::View(value->value)), ""});
      }
    }
    json::RemoveMemberCI(resource, "members");
  }
  return input;
}

store::MembershipChange ToMembershipChange(const patch::MemberDelta& delta) {
  store::MembershipChange change;
  change.replace_all = delta.replace_all;
  change.remove_all = delta.remove_all;
  change.remove = delta.removed;
  for (const patch::MemberRef& m : delta.added) change.add.push_back({m.value, ""});
  return change;
}

}  // namespace scim::service
