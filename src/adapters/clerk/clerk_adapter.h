#pragma once
// Maps SCIM resources to Clerk (product.md, clerk-organizations.md):
// - Users → Clerk users with `external_id` = SCIM id, the primary e-mail, first/last name;
//   `active` false/true → ban/unban; delete → delete. A changed role re-PATCHes the user's
//   memberships in the organizations scimd manages.
// - Groups whose scimd extension `kind` is "organization" → organizations (name = displayName,
//   `private_metadata.scim_id` = SCIM id) and memberships with the member's role mapped through
//   `role_map` (else the default role, `org:member`).
// - Other groups: nothing (a group that stops being an organization has it deleted).

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/clerk/clerk_client.h"
#include "adapters/common/scim_resource.h"
#include "scim/events/reconcilable.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters::clerk {

// SCIM role value → Clerk role key.
struct ClerkRoleMapping {
  std::map<std::string, std::string> by_scim_role;  // lower-cased SCIM role value → role key
  std::string default_role = "org:member";

  // The Clerk role key for a SCIM role value (empty: the default).
  std::string Map(const std::string& scim_role) const;
};

class ClerkAdapter : public events::TargetAdapter, public events::Reconcilable {
 public:
  ClerkAdapter(std::string name, std::set<std::string> resources, ClerkRoleMapping roles,
               std::unique_ptr<ClerkClient> client);

  std::string_view Name() const override { return name_; }
  std::string_view Type() const override { return "clerk"; }
  bool Handles(const events::ChangeEvent& event) const override;

  // Users: PATCH the linked user (404: find or create again); without a link, find it by
  // external_id, else create it; then ban/unban and the primary e-mail. Organizations: create
  // (after a search by name + scim_id on retries) or rename, then apply the member delta; a
  // member not linked here yet makes the delivery wait (kRetry, organization link kept).
  // Deletes: DELETE, 404 counts as deleted.
  events::DeliveryOutcome Deliver(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) override;

  // Reconciliation (clerk_reconcile.cc): Clerk lists users and organizations, so the
  // inventory is complete.
  events::Reconcilable* AsReconcilable() override { return this; }
  // Users are expected; Groups of kind organization are.
  events::Expectation Expect(const events::ChangeEvent& current) const override;
  // Every Clerk user (scim id = external_id, natural key = primary e-mail) and organization
  // (scim id = private_metadata.scim_id).
  Result<events::RemoteInventory> Inventory(
      const std::vector<events::RemoteProbe>& probes) override;

 private:
  events::DeliveryOutcome DeliverUser(const events::ChangeEvent& event, const EventPayload& payload,
                                      const events::DeliveryContext& context);
  events::DeliveryOutcome DeleteUser(const events::ChangeEvent& event,
                                     const events::DeliveryContext& context);
  // Ban state, e-mail and memberships' roles of a user that existed before this delivery.
  events::DeliveryOutcome SyncExistingUser(const ClerkUser& user, const ClerkUserFields& fields,
                                           const std::string& role);
  events::DeliveryOutcome DeliverGroup(const events::ChangeEvent& event,
                                       const EventPayload& payload,
                                       const events::DeliveryContext& context);
  events::DeliveryOutcome DeliverOrganization(const events::ChangeEvent& event,
                                              const EventPayload& payload,
                                              std::optional<std::string> org_id,
                                              const events::DeliveryContext& context);
  CallResult<std::string> EnsureOrganization(const events::ChangeEvent& event,
                                             const std::string& name,
                                             std::optional<std::string> org_id,
                                             const events::DeliveryContext& context);
  // Adds `user_id` with `role`; an existing membership (a retry after "already a member") is
  // checked and its role corrected.
  CallStatus AddMember(const std::string& org_id, const std::string& user_id,
                       const std::string& role);

  std::string name_;
  std::set<std::string> resources_;
  ClerkRoleMapping roles_;
  std::unique_ptr<ClerkClient> client_;
};

}  // namespace scim::adapters::clerk
