#pragma once
// Maps SCIM Users to Dolibarr third parties (product.md, "What the targets receive"):
// name = displayName / given + family name / userName, email and phone = primary (else first),
// status 1/0 from `active`, client = fournisseur = 0 on create, the Enterprise `department` as an
// extra field, ref_ext = the SCIM id. Groups are not sent to Dolibarr.

#include <memory>
#include <set>
#include <string>

#include "adapters/dolibarr/dolibarr_client.h"
#include "scim/events/reconcilable.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters::dolibarr {

class DolibarrAdapter : public events::TargetAdapter, public events::Reconcilable {
 public:
  DolibarrAdapter(std::string name, std::set<std::string> resources,
                  std::unique_ptr<DolibarrClient> client);

  std::string_view Name() const override { return name_; }
  std::string_view Type() const override { return "dolibarr"; }
  bool Handles(const events::ChangeEvent& event) const override;

  // Create/replace/patch: update the linked third party; without a (valid) link, find it by
  // ref_ext = SCIM id, then by email (if it is not another SCIM user's), and update it; only then
  // create. Delete: delete the linked (or ref_ext-found) third party; 404 counts as deleted.
  events::DeliveryOutcome Deliver(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) override;

  events::Reconcilable* AsReconcilable() override { return this; }
  // Every SCIM User with a name is expected as a third party; natural key: its e-mail.
  events::Expectation Expect(const events::ChangeEvent& current) const override;
  // Every third party (paged list): target_id = id, scim_id = ref_ext, natural_key = e-mail.
  // Third parties scimd did not create (customers, suppliers) are listed too, with no ref_ext.
  Result<events::RemoteInventory> Inventory(const std::vector<events::RemoteProbe>&) override;

 private:
  std::string name_;
  std::set<std::string> resources_;
  std::unique_ptr<DolibarrClient> client_;
};

}  // namespace scim::adapters::dolibarr
