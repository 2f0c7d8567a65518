#include "adapters/clerk/clerk_adapter.h"

#include <set>
#include <vector>

#include "scim/common/strings.h"

namespace scim::adapters::clerk {
namespace {

using events::DeliveryOutcome;

// Sets the link to record on an outcome that does not carry one yet.
DeliveryOutcome WithLink(DeliveryOutcome outcome, const std::optional<std::string>& id) {
  if (!outcome.target_id) outcome.target_id = id;
  return outcome;
}

// name.givenName / name.familyName.
void ReadNames(const json::Value& user, ClerkUserFields& fields) {
  const json::Value* name = json::FindMemberCI(user, "name");
  if (name == nullptr || !name->IsObject()) return;
  fields.first_name = StringAttr(*name, "givenName").value_or("");
  fields.last_name = StringAttr(*name, "familyName").value_or("");
}

bool IsUserMember(const MemberRef& m) { return m.type.empty() || m.type == "User"; }

}  // namespace

std::string ClerkRoleMapping::Map(const std::string& scim_role) const {
  auto it = by_scim_role.find(ToLower(scim_role));
  return it == by_scim_role.end() ? default_role : it->second;
}

ClerkAdapter::ClerkAdapter(std::string name, std::set<std::string> resources,
                           ClerkRoleMapping roles, std::unique_ptr<ClerkClient> client)
    : name_(std::move(name)),
      resources_(std::move(resources)),
      roles_(std::move(roles)),
      client_(std::move(client)) {}

bool ClerkAdapter::Handles(const events::ChangeEvent& event) const {
  return resources_.contains(event.resource_type);
}

DeliveryOutcome ClerkAdapter::Deliver(const events::ChangeEvent& event,
                                      const events::DeliveryContext& context) {
  auto payload = EventPayload::Parse(event);
  if (!payload.ok()) return DeliveryOutcome::Failed(payload.error().detail);
  if (event.resource_type == "User") {
    if (event.kind == events::ChangeKind::kDeleted) return DeleteUser(event, context);
    return DeliverUser(event, *payload, context);
  }
  if (event.resource_type == "Group") return DeliverGroup(event, *payload, context);
  return DeliveryOutcome::Delivered();
}

DeliveryOutcome ClerkAdapter::DeleteUser(const events::ChangeEvent& event,
                                         const events::DeliveryContext& context) {
  return DeleteLinkedOrFound(
      context.target_id, [&] { return client_->FindUserByExternalId(event.resource_id); },
      [&](const std::string& id) { return client_->DeleteUser(id); });
}

DeliveryOutcome ClerkAdapter::DeliverUser(const events::ChangeEvent& event,
                                          const EventPayload& payload,
                                          const events::DeliveryContext& context) {
  const json::Value& user = *payload.resource();
  ClerkUserFields fields;
  fields.external_id = event.resource_id;
  fields.email = PrimaryValue(user, "emails").value_or("");
  ReadNames(user, fields);
  fields.banned = !IsActive(user);
  const std::string role = roles_.Map(PrimaryValue(user, "roles").value_or("member"));

  if (context.target_id) {
    auto updated = client_->UpdateUser(*context.target_id, fields);
    if (!updated.ok()) return updated.error().ToOutcome();
    if (*updated) return SyncExistingUser(**updated, fields, role);
    // 404: deleted in Clerk; find or create it again below.
  }
  auto found = client_->FindUserByExternalId(event.resource_id);
  if (!found.ok()) return found.error().ToOutcome();
  if (*found) {
    auto updated = client_->UpdateUser((*found)->id, fields);
    if (!updated.ok()) return updated.error().ToOutcome();
    if (*updated) return SyncExistingUser(**updated, fields, role);
  }
  auto created = client_->CreateUser(fields);
  if (!created.ok()) return created.error().ToOutcome();
  return DeliveryOutcome::Delivered(created->id);
}

DeliveryOutcome ClerkAdapter::SyncExistingUser(const ClerkUser& user, const ClerkUserFields& fields,
                                               const std::string& role) {
  const std::optional<std::string> link = user.id;
  if (user.banned != fields.banned) {
    auto set = client_->SetBanned(user.id, fields.banned);
    if (!set.ok()) return WithLink(set.error().ToOutcome(), link);
  }
  if (!fields.email.empty() && ToLower(user.primary_email) != ToLower(fields.email)) {
    auto replaced = client_->ReplaceEmail(user.id, fields.email);
    if (!replaced.ok()) return WithLink(replaced.error().ToOutcome(), link);
  }
  // The role of every membership in an organization scimd manages follows the User's role.
  auto orgs = client_->OrganizationsOfUser(user.id);
  if (!orgs.ok()) return WithLink(orgs.error().ToOutcome(), link);
  for (const ClerkOrganization& org : *orgs) {
    if (org.scim_id.empty()) continue;
    auto current = client_->ListMemberships(org.id, user.id);
    if (!current.ok()) return WithLink(current.error().ToOutcome(), link);
    if (!*current || (*current)->empty() || (*current)->front().role == role) continue;
    auto updated = client_->UpdateMembership(org.id, user.id, role);
    if (!updated.ok()) return WithLink(updated.error().ToOutcome(), link);
  }
  return DeliveryOutcome::Delivered(link);
}

DeliveryOutcome ClerkAdapter::DeliverGroup(const events::ChangeEvent& event,
                                           const EventPayload& payload,
                                           const events::DeliveryContext& context) {
  GroupKind kind = GroupKind::kPlain;
  if (event.kind != events::ChangeKind::kDeleted) kind = KindOfGroup(*payload.resource());
  if (kind == GroupKind::kOrganization) {
    return DeliverOrganization(event, payload, context.target_id, context);
  }
  // Deleted, or not (or no longer) an organization: remove what it was mapped to.
  if (!context.target_id) return DeliveryOutcome::Delivered();
  auto deleted = client_->DeleteOrganization(*context.target_id);
  if (!deleted.ok()) return deleted.error().ToOutcome();
  return DeliveryOutcome::Unlinked();
}

CallResult<std::string> ClerkAdapter::EnsureOrganization(const events::ChangeEvent& event,
                                                         const std::string& name,
                                                         std::optional<std::string> org_id,
                                                         const events::DeliveryContext& context) {
  if (org_id) {
    SCIM_TRY(auto renamed, client_->RenameOrganization(*org_id, name));
    if (renamed) return *org_id;  // else deleted in Clerk: create it again
  }
  // Creating is not idempotent: on a retry, an earlier attempt may have created it.
  if (context.attempt != 1) {
    SCIM_TRY(auto found, client_->FindOrganization(name, event.resource_id));
    if (found) return found->id;
  }
  return client_->CreateOrganization(name, event.resource_id);
}

DeliveryOutcome ClerkAdapter::DeliverOrganization(const events::ChangeEvent& event,
                                                  const EventPayload& payload,
                                                  std::optional<std::string> org_id,
                                                  const events::DeliveryContext& context) {
  const std::string name =
      StringAttr(*payload.resource(), "displayName").value_or(event.resource_id);
  auto ensured = EnsureOrganization(event, name, org_id, context);
  if (!ensured.ok()) return ensured.error().ToOutcome();
  const std::optional<std::string> link = *ensured;

  // Resolve the members' Clerk user ids first: a member not linked yet means wait for it.
  auto lookup = [&](const std::string& id) -> std::optional<std::string> {
    return context.lookup_target_id ? context.lookup_target_id(id) : std::nullopt;
  };
  const MembersDelta& members = payload.members();
  std::map<std::string, std::string> to_add;  // Clerk user id → role key
  std::string waiting;
  for (const MemberRef& m : members.added) {
    if (!IsUserMember(m)) continue;  // nested groups have no Clerk equivalent
    auto user_id = lookup(m.value);
    if (!user_id) {
      waiting += (waiting.empty() ? "" : ", ") + m.value;
      continue;
    }
    // The role the user has now: a role change delivered before this event must not be undone.
    std::optional<std::string> role;
    if (context.current_member_role) role = context.current_member_role(m.value);
    to_add[*user_id] = roles_.Map(role.value_or(m.role));
  }
  if (!waiting.empty()) {
    return WithLink(DeliveryOutcome::Retry("clerk: waiting for member user(s) " + waiting +
                                           " to be linked at " + name_ + " first"),
                    link);
  }
  std::set<std::string> to_remove;
  for (const MemberRef& m : members.removed) {
    if (!IsUserMember(m)) continue;
    if (auto user_id = lookup(m.value)) to_remove.insert(*user_id);
  }
  if (members.replaced) {
    // The whole list was replaced: drop every membership not in the new list.
    auto current = client_->ListMemberships(*link);
    if (!current.ok()) return WithLink(current.error().ToOutcome(), link);
    for (const ClerkMembership& m : current->value_or(std::vector<ClerkMembership>{})) {
      if (!to_add.contains(m.user_id)) to_remove.insert(m.user_id);
    }
  }
  for (const std::string& user_id : to_remove) {
    auto removed = client_->DeleteMembership(*link, user_id);
    if (!removed.ok()) return WithLink(removed.error().ToOutcome(), link);
  }
  for (const auto& [user_id, role] : to_add) {
    auto added = AddMember(*link, user_id, role);
    if (!added.ok()) return WithLink(added.error().ToOutcome(), link);
  }
  return DeliveryOutcome::Delivered(link);
}

CallStatus ClerkAdapter::AddMember(const std::string& org_id, const std::string& user_id,
                                   const std::string& role) {
  SCIM_TRY(auto created, client_->CreateMembership(org_id, user_id, role));
  if (created == MembershipCreate::kCreated) return {};
  if (created == MembershipCreate::kNotFound) {
    return CallError::Transport("clerk: organization " + org_id + " or user " + user_id +
                                " not found; the membership waits");
  }
  // "Already a member" (e.g. a retry after a lost answer): check it, and correct the role.
  SCIM_TRY(auto current, client_->ListMemberships(org_id, user_id));
  if (!current || current->empty()) {
    return CallError::Transport("clerk: user " + user_id + " is said to be a member of " + org_id +
                                " but is not listed");
  }
  if (current->front().role == role) return {};
  SCIM_RETURN_IF_ERROR(client_->UpdateMembership(org_id, user_id, role));
  return {};
}

}  // namespace scim::adapters::clerk
