#include "adapters/crm/crm_adapter.h"

#include <algorithm>
#include <set>
#include <vector>

#include "scim/common/strings.h"

namespace scim::adapters::crm {
namespace {

using events::DeliveryOutcome;

constexpr const char* kCrmRoles[] = {"admin", "manager", "sales"};

// Sets the link to record on an outcome that does not carry one yet.
DeliveryOutcome WithLink(DeliveryOutcome outcome, const std::optional<std::string>& id) {
  if (!outcome.target_id) outcome.target_id = id;
  return outcome;
}

constexpr const char* kScimdUserUrn = "urn:scimd:params:scim:schemas:extension:2.0:User";

// The scimd User extension's externalIds as system → value (the first entry of a system wins).
std::map<std::string, std::string> ExtensionIds(const json::Value& user) {
  std::map<std::string, std::string> out;
  const json::Value* ext = json::FindMemberCI(user, kScimdUserUrn);
  if (ext == nullptr || !ext->IsObject()) return out;
  const json::Value* ids = json::FindMemberCI(*ext, "externalIds");
  if (ids == nullptr || !ids->IsArray()) return out;
  for (const json::Value& item : ids->GetArray()) {
    if (!item.IsObject()) continue;
    auto system = StringAttr(item, "system");
    auto value = StringAttr(item, "value");
    if (system && value) out.emplace(*system, *value);
  }
  return out;
}

// A string array member of the payload object `object`.
std::vector<std::string> StringList(const json::Value& object, const char* name) {
  std::vector<std::string> out;
  if (!object.IsObject()) return out;
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsArray()) return out;
  for (const json::Value& v : it->value.GetArray()) {
    if (v.IsString()) out.emplace_back(json::View(v));
  }
  return out;
}

}  // namespace

CrmAdapter::CrmAdapter(std::string name, std::set<std::string> resources, CrmRoleMapping roles,
                       std::unique_ptr<CrmClient> client)
    : name_(std::move(name)),
      resources_(std::move(resources)),
      roles_(std::move(roles)),
      client_(std::move(client)) {}

bool CrmAdapter::Handles(const events::ChangeEvent& event) const {
  return resources_.contains(event.resource_type);
}

std::string CrmAdapter::IdempotencyKey(const events::ChangeEvent& event,
                                       const events::DeliveryContext& context) const {
  // The resource id makes the key safe even if sequence numbers restart (a fresh database).
  std::string base = context.idempotency_key.empty() ? name_ + ":" + std::to_string(event.seq)
                                                     : context.idempotency_key;
  return base + ":" + event.resource_id;
}

bool CrmAdapter::FirstTryOfCreate(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) {
  if (event.kind != events::ChangeKind::kCreated || context.attempt != 1 || context.target_id) {
    return false;
  }
  // "<target>:<seq>:r<N>" after the N-th re-queue (events/target_adapter.h).
  const std::string& key = context.idempotency_key;
  const size_t colon = key.rfind(':');
  return colon == std::string::npos || colon + 1 >= key.size() || key[colon + 1] != 'r';
}

DeliveryOutcome CrmAdapter::Deliver(const events::ChangeEvent& event,
                                    const events::DeliveryContext& context) {
  auto payload = EventPayload::Parse(event);
  if (!payload.ok()) return DeliveryOutcome::Failed(payload.error().detail);
  if (event.resource_type == "User") return DeliverUser(event, *payload, context);
  if (event.resource_type == "Group") return DeliverGroup(event, *payload, context);
  return DeliveryOutcome::Delivered();
}

DeliveryOutcome CrmAdapter::DeliverUser(const events::ChangeEvent& event,
                                        const EventPayload& payload,
                                        const events::DeliveryContext& context) {
  if (event.kind == events::ChangeKind::kDeleted) {
    return DeleteLinkedOrFound(
        context.target_id, [&] { return client_->FindUserByScimId(event.resource_id); },
        [&](const std::string& id) { return client_->DeleteUser(id); });
  }

  const json::Value& user = *payload.resource();
  CrmUserFields fields;
  fields.email = PrimaryValue(user, "emails").value_or("");
  if (fields.email.empty()) {
    return DeliveryOutcome::Failed("user " + event.resource_id +
                                   " has no email; the CRM requires one");
  }
  fields.name = PersonName(user);
  if (fields.name.empty()) fields.name = fields.email;
  fields.active = IsActive(user);
  if (auto role = PrimaryValue(user, "roles")) {
    std::string lower = ToLower(*role);
    if (auto it = roles_.by_scim_role.find(lower); it != roles_.by_scim_role.end()) {
      fields.role = it->second;
    } else {
      for (const char* crm_role : kCrmRoles) {
        if (lower == crm_role) fields.role = lower;
      }
    }
  }
  if (!fields.role) fields.role = roles_.default_role;
  // externalIds: the SCIM id, every other target's link, and the systems of the scimd User
  // extension. A name of a scimd target (or "scim", or this CRM target's own name) belongs to
  // that target: an extension entry with such a system is not sent, so the target's link (or,
  // without one, null) always wins. Keys that are no longer there are sent as null: targets
  // without a link, and extension systems this change removed (payload "external_ids_removed";
  // the CRM merges externalIds key by key, crm.md).
  std::set<std::string> reserved = {"scim", name_};
  for (const auto& [target, id] : context.linked_ids) reserved.insert(target);
  reserved.insert(context.unlinked_targets.begin(), context.unlinked_targets.end());
  for (const auto& [system, value] : ExtensionIds(user)) {
    if (!reserved.contains(system)) fields.external_ids[system] = value;
  }
  for (const std::string& system : StringList(payload.document(), "external_ids_removed")) {
    if (!reserved.contains(system) && !fields.external_ids.contains(system)) {
      fields.cleared_external_ids.insert(system);
    }
  }
  for (const auto& [target, id] : context.linked_ids) {
    if (target != name_ && target != "scim") fields.external_ids[target] = id;
  }
  fields.external_ids["scim"] = event.resource_id;
  for (const std::string& target : context.unlinked_targets) {
    if (target != name_ && target != "scim") fields.cleared_external_ids.insert(target);
  }

  if (context.target_id) {
    auto patched = client_->PatchUser(*context.target_id, fields);
    if (!patched.ok()) return patched.error().ToOutcome();
    if (*patched) return UpdateMemberRoles(payload, *context.target_id, context);
    // 404: deleted in the CRM; find or create it again below.
  }
  // The first try of a User's create (not re-queued by an operator: its key would end in
  // ":r<N>") is the resource's first event, so no CRM user can carry its SCIM id yet: POST
  // without the look-up by externalId (one call per new user instead of two; issue 11's 100k
  // drain). A user holding the e-mail still answers 409 email_taken and is adopted below; the
  // POST's Idempotency-Key covers a repeat of this same try.
  if (!FirstTryOfCreate(event, context)) {
    auto found = client_->FindUserByScimId(event.resource_id);
    if (!found.ok()) return found.error().ToOutcome();
    if (*found) {
      auto patched = client_->PatchUser((*found)->id, fields);
      if (!patched.ok()) return patched.error().ToOutcome();
      if (*patched) return UpdateMemberRoles(payload, (*found)->id, context);
    }
  }
  auto created = client_->CreateUser(fields, IdempotencyKey(event, context));
  if (!created.ok()) return created.error().ToOutcome();
  if (!created->email_taken) return UpdateMemberRoles(payload, created->id, context);

  // 409 email_taken: adopt the CRM's user with that email, unless another SCIM user owns it.
  auto existing = client_->GetUser(created->id);
  if (!existing.ok()) return existing.error().ToOutcome();
  if (!*existing) {
    return DeliveryOutcome::Retry("crm: email " + fields.email + " taken by user " + created->id +
                                  ", which is gone now");
  }
  auto owner = (*existing)->external_ids.find("scim");
  if (owner != (*existing)->external_ids.end() && !owner->second.empty() &&
      owner->second != event.resource_id) {
    return DeliveryOutcome::Failed("crm: email " + fields.email + " is taken by CRM user " +
                                   created->id + " linked to SCIM user " + owner->second);
  }
  auto patched = client_->PatchUser(created->id, fields);
  if (!patched.ok()) return patched.error().ToOutcome();
  return UpdateMemberRoles(payload, created->id, context);
}

DeliveryOutcome CrmAdapter::UpdateMemberRoles(const EventPayload& payload,
                                              const std::string& user_id,
                                              const events::DeliveryContext& context) {
  // product.md: a User's roles changed → its organizations get the new role. The payload's
  // "role_change" lists the user's groups at the change; those linked here as organizations
  // (a store's link is its own SCIM id; a plain group has none) get PUT, which creates or
  // updates, so a retry repeats it harmlessly. An organization not linked yet gets the role
  // from its own delivery.
  const json::Value& doc = payload.document();
  auto change = doc.FindMember("role_change");
  if (change == doc.MemberEnd() || !change->value.IsObject()) {
    return DeliveryOutcome::Delivered(user_id);
  }
  auto role = StringAttr(change->value, "role");
  for (const std::string& group : StringList(change->value, "groups")) {
    auto org = context.lookup_target_id ? context.lookup_target_id(group) : std::nullopt;
    if (!org || *org == group) continue;
    auto put = client_->PutMembership(*org, user_id, role.value_or("member"));
    if (!put.ok()) return WithLink(put.error().ToOutcome(), user_id);
    // false: the organization is gone in the CRM; its next delivery creates it again.
  }
  return DeliveryOutcome::Delivered(user_id);
}

DeliveryOutcome CrmAdapter::DeliverGroup(const events::ChangeEvent& event,
                                         const EventPayload& payload,
                                         const events::DeliveryContext& context) {
  // A store's link is its external_id (= the SCIM id); an organization's is the CRM's id.
  const bool linked_store = context.target_id && *context.target_id == event.resource_id;
  const bool linked_org = context.target_id && !linked_store;
  GroupKind kind = GroupKind::kPlain;
  if (event.kind != events::ChangeKind::kDeleted) kind = KindOfGroup(*payload.resource());

  // Remove what the group was mapped to when it is deleted or no longer of that kind.
  bool unlinked = false;
  if (linked_store && kind != GroupKind::kStore) {
    auto deleted = client_->DeleteStore(event.resource_id);
    if (!deleted.ok()) return deleted.error().ToOutcome();
    unlinked = true;
  }
  if (linked_org && kind != GroupKind::kOrganization) {
    auto deleted = client_->DeleteOrganization(*context.target_id);
    if (!deleted.ok()) return deleted.error().ToOutcome();
    unlinked = true;
  }

  switch (kind) {
    case GroupKind::kPlain: {
      DeliveryOutcome outcome = DeliveryOutcome::Delivered();
      outcome.unlink = unlinked;
      return outcome;
    }
    case GroupKind::kStore: {
      auto upserted = client_->UpsertStore(StoreOf(event, *payload.resource()));
      if (!upserted.ok()) {
        DeliveryOutcome outcome = upserted.error().ToOutcome();
        outcome.unlink = unlinked;
        return outcome;
      }
      return DeliveryOutcome::Delivered(event.resource_id);
    }
    case GroupKind::kOrganization:
      return DeliverOrganization(event, payload, linked_org ? context.target_id : std::nullopt,
                                 context);
  }
  return DeliveryOutcome::Delivered();
}

CrmStore CrmAdapter::StoreOf(const events::ChangeEvent& event, const json::Value& group) {
  CrmStore store;
  store.external_id = event.resource_id;
  store.name = StringAttr(group, "displayName").value_or(event.resource_id);
  store.location = StoreAttr(group, "location").value_or("");
  store.address = StoreAttr(group, "address").value_or("");
  store.phone = StoreAttr(group, "phone").value_or("");
  return store;
}

bool CrmAdapter::Batchable(const events::ChangeEvent& event) const {
  if (event.resource_type != "Group" || event.kind == events::ChangeKind::kDeleted) return false;
  auto payload = EventPayload::Parse(event);
  return payload.ok() && payload->resource() != nullptr &&
         KindOfGroup(*payload->resource()) == GroupKind::kStore;
}

std::vector<DeliveryOutcome> CrmAdapter::DeliverBatch(const std::vector<BatchItem>& items) {
  std::vector<DeliveryOutcome> outcomes(items.size());
  // The stores to import, by position in `items`; everything else is delivered on its own.
  std::vector<size_t> positions;
  std::vector<CrmStore> stores;
  for (size_t i = 0; i < items.size(); ++i) {
    const events::ChangeEvent& event = *items[i].event;
    const events::DeliveryContext& context = *items[i].context;
    auto payload = EventPayload::Parse(event);
    const bool linked_org = context.target_id && *context.target_id != event.resource_id;
    if (!payload.ok() || payload->resource() == nullptr || linked_org ||
        event.kind == events::ChangeKind::kDeleted ||
        KindOfGroup(*payload->resource()) != GroupKind::kStore) {
      outcomes[i] = Deliver(event, context);
      continue;
    }
    positions.push_back(i);
    stores.push_back(StoreOf(event, *payload->resource()));
  }
  for (size_t from = 0; from < stores.size(); from += kMaxStoresPerImport) {
    const size_t to = std::min(stores.size(), from + kMaxStoresPerImport);
    std::vector<CrmStore> chunk(stores.begin() + static_cast<std::ptrdiff_t>(from),
                                stores.begin() + static_cast<std::ptrdiff_t>(to));
    auto imported = client_->UpsertStores(chunk);
    for (size_t k = from; k < to; ++k) {
      const size_t i = positions[k];
      if (!imported.ok()) {
        outcomes[i] = imported.error().ToOutcome();
      } else if (const auto& error = (*imported)[k - from]) {
        outcomes[i] = DeliveryOutcome::Failed(*error);
      } else {
        outcomes[i] = DeliveryOutcome::Delivered(items[i].event->resource_id);
      }
    }
  }
  return outcomes;
}

DeliveryOutcome CrmAdapter::DeliverOrganization(const events::ChangeEvent& event,
                                                const EventPayload& payload,
                                                std::optional<std::string> org_id,
                                                const events::DeliveryContext& context) {
  const json::Value& group = *payload.resource();
  std::string name = StringAttr(group, "displayName").value_or(event.resource_id);
  if (org_id) {
    auto renamed = client_->RenameOrganization(*org_id, name);
    if (!renamed.ok()) return renamed.error().ToOutcome();
    if (!*renamed) org_id.reset();  // deleted in the CRM: create it again
  }
  if (!org_id) {
    auto created =
        client_->CreateOrganization(name, event.resource_id, IdempotencyKey(event, context));
    if (!created.ok()) return created.error().ToOutcome();
    org_id = *created;
  }

  // Resolve the members' CRM user ids first: a member not linked yet means wait for it.
  const MembersDelta& members = payload.members();
  struct Resolved {
    std::string user_id;
    std::string role;
  };
  std::vector<Resolved> to_add;
  std::vector<std::string> to_remove;
  std::vector<std::string> waiting;
  auto lookup = [&](const std::string& id) -> std::optional<std::string> {
    return context.lookup_target_id ? context.lookup_target_id(id) : std::nullopt;
  };
  for (const MemberRef& m : members.added) {
    if (!m.type.empty() && m.type != "User") continue;  // nested groups have no CRM equivalent
    auto user_id = lookup(m.value);
    if (!user_id) {
      waiting.push_back(m.value);
      continue;
    }
    // The role the user has now: a role change delivered before this event must not be undone.
    std::optional<std::string> role;
    if (context.current_member_role) role = context.current_member_role(m.value);
    if (!role) role = m.role.empty() ? "member" : m.role;
    to_add.push_back({*user_id, *role});
  }
  if (!waiting.empty()) {
    std::string list;
    for (const auto& w : waiting) list += (list.empty() ? "" : ", ") + w;
    return WithLink(DeliveryOutcome::Retry("crm: waiting for member user(s) " + list +
                                           " to be linked at " + name_ + " first"),
                    org_id);
  }
  for (const MemberRef& m : members.removed) {
    if (!m.type.empty() && m.type != "User") continue;
    if (auto user_id = lookup(m.value)) to_remove.push_back(*user_id);
  }

  if (members.replaced) {
    // The whole list was replaced: drop every membership not in the new list.
    auto current = client_->ListMemberships(*org_id);
    if (!current.ok()) return WithLink(current.error().ToOutcome(), org_id);
    std::set<std::string> keep;
    for (const auto& r : to_add) keep.insert(r.user_id);
    if (*current) {
      for (const Membership& m : **current) {
        if (!keep.contains(m.user_id)) to_remove.push_back(m.user_id);
      }
    }
  }
  for (const std::string& user_id : to_remove) {
    auto removed = client_->DeleteMembership(*org_id, user_id);
    if (!removed.ok()) return WithLink(removed.error().ToOutcome(), org_id);
  }
  for (const Resolved& r : to_add) {
    auto put = client_->PutMembership(*org_id, r.user_id, r.role);
    if (!put.ok()) return WithLink(put.error().ToOutcome(), org_id);
    if (!*put) {
      return WithLink(
          DeliveryOutcome::Retry("crm: user " + r.user_id + " unknown to the CRM; membership in " +
                                 *org_id + " waits for it"),
          org_id);
    }
  }
  return DeliveryOutcome::Delivered(org_id);
}

}  // namespace scim::adapters::crm
