#pragma once
// Maps SCIM resources to the CRM (product.md, crm.md):
// - Users → users with `externalIds` = {"scim": SCIM id, <target name>: id for every other
//   linked target}, `active`, and a role from the mapping; PATCH refreshes them; delete deletes.
// - Groups whose scimd extension `kind` is "organization" → organizations (externalId = SCIM id)
//   and memberships (role from the member's role in the payload, else "member").
// - Groups of kind "store" → stores upserted by external_id = SCIM id through the bulk import;
//   their link is the SCIM id itself (an organization's link is the CRM's id).
// - Plain groups: nothing (a group that stops being an organization/store has that removed).

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/common/scim_resource.h"
#include "adapters/crm/crm_client.h"
#include "scim/events/reconcilable.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters::crm {

// The CRM role of a user: the mapping entry for the SCIM role (primary, else first), else the
// SCIM role itself when it is a CRM role (admin, manager, sales), else `default_role`, else none
// (the CRM's default on create, unchanged on update).
struct CrmRoleMapping {
  std::map<std::string, std::string> by_scim_role;  // lower-cased SCIM role value → CRM role
  std::optional<std::string> default_role;
};

class CrmAdapter : public events::TargetAdapter, public events::Reconcilable {
 public:
  CrmAdapter(std::string name, std::set<std::string> resources, CrmRoleMapping roles,
             std::unique_ptr<CrmClient> client);

  std::string_view Name() const override { return name_; }
  std::string_view Type() const override { return "crm"; }
  bool Handles(const events::ChangeEvent& event) const override;
  // Its users carry every other target's id (`externalIds`).
  bool WantsLinkChanges() const override { return true; }

  // Users: PATCH the linked user; without a (valid) link, find it by externalId.scim, else POST
  // with an Idempotency-Key; a 409 email_taken adopts the existing user (unless it belongs to
  // another SCIM user) and PATCHes it. Organizations: create/rename, then apply the member delta;
  // a member whose user has no CRM link yet makes the delivery wait (kRetry, organization link
  // kept). Stores: bulk-import upsert. Deletes: DELETE, 404 counts as deleted.
  events::DeliveryOutcome Deliver(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) override;

  // Store upserts (Groups of kind store, not deleted) go in bulk imports of up to
  // kMaxStoresPerImport stores; each store gets its own outcome (a per-store error fails that
  // store only). A store still linked as an organization (its kind changed) goes through
  // Deliver(), which removes the organization first. Deletes are one call each.
  bool Batchable(const events::ChangeEvent& event) const override;
  int MaxBatch() const override { return static_cast<int>(kMaxStoresPerImport); }
  std::vector<events::DeliveryOutcome> DeliverBatch(const std::vector<BatchItem>& items) override;

  // Reconciliation (crm_reconcile.cc). The contract (crm.md) has no endpoint listing users,
  // organizations or stores, so the inventory is built from the probes and is never complete.
  events::Reconcilable* AsReconcilable() override { return this; }
  // Users with an e-mail, and Groups of kind organization or store, are expected.
  events::Expectation Expect(const events::ChangeEvent& current) const override;
  // Linked users: GET /users/{id}; unlinked users: GET /users?externalId.scim=ID; linked
  // organizations: GET /organizations/{id}/memberships (404: gone). Stores (linked by their
  // SCIM id) have no read endpoint: they are `unchecked`.
  Result<events::RemoteInventory> Inventory(
      const std::vector<events::RemoteProbe>& probes) override;

 private:
  events::DeliveryOutcome DeliverUser(const events::ChangeEvent& event, const EventPayload& payload,
                                      const events::DeliveryContext& context);
  // After the user is up to date (CRM id `user_id`): the new role in its organizations when the
  // payload has a "role_change".
  events::DeliveryOutcome UpdateMemberRoles(const EventPayload& payload, const std::string& user_id,
                                            const events::DeliveryContext& context);
  events::DeliveryOutcome DeliverGroup(const events::ChangeEvent& event,
                                       const EventPayload& payload,
                                       const events::DeliveryContext& context);
  events::DeliveryOutcome DeliverOrganization(const events::ChangeEvent& event,
                                              const EventPayload& payload,
                                              std::optional<std::string> org_id,
                                              const events::DeliveryContext& context);
  // The store a store Group's event upserts.
  // A User create's first try, not re-queued: nothing of the resource can be at the CRM yet.
  static bool FirstTryOfCreate(const events::ChangeEvent& event,
                               const events::DeliveryContext& context);
  static CrmStore StoreOf(const events::ChangeEvent& event, const json::Value& group);
  std::string IdempotencyKey(const events::ChangeEvent& event,
                             const events::DeliveryContext& context) const;

  std::string name_;
  std::set<std::string> resources_;
  CrmRoleMapping roles_;
  std::unique_ptr<CrmClient> client_;
};

}  // namespace scim::adapters::crm
