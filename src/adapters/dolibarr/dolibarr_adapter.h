#pragma once
// Maps SCIM Users to Dolibarr third parties (product.md, "What the targets receive"):
// name = displayName / given + family name / userName, email and phone = primary (else first),
// status 1/0 from `active`, client = fournisseur = 0 on create, the Enterprise `department` as an
// extra field, ref_ext = the SCIM id. Groups are not sent to Dolibarr.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "adapters/dolibarr/dolibarr_client.h"
#include "scim/events/reconcilable.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters::dolibarr {

class DolibarrAdapter : public events::TargetAdapter, public events::Reconcilable {
 public:
  // `department_recheck`: how long the answer about the `department` extra field is trusted.
  DolibarrAdapter(std::string name, std::set<std::string> resources,
                  std::unique_ptr<DolibarrClient> client,
                  std::chrono::seconds department_recheck = std::chrono::minutes(10));

  std::string_view Name() const override { return name_; }
  std::string_view Type() const override { return "dolibarr"; }
  bool Handles(const events::ChangeEvent& event) const override;

  // Create/replace/patch: update the linked third party; without a (valid) link, find it by
  // ref_ext = SCIM id, then by e-mail: the one whose ref_ext is this user's, else a single one
  // no SCIM user owns; several and none of them this user's is a conflict (kFailed naming their
  // ids), never one more twin. Only then create. Delete: delete the linked (or ref_ext-found)
  // third party; 404 counts as deleted.
  // The `department` extra field: whether Dolibarr defines it is asked once (GET
  // /setup/extrafields/societe/<field>) and again after `department_recheck`; while it is not
  // defined the value is not sent, the rest is delivered, and the outcome carries the notice
  // "department" (set when a User with a department meets it, cleared once the field exists).
  events::DeliveryOutcome Deliver(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) override;

  events::Reconcilable* AsReconcilable() override { return this; }
  // Every SCIM User with a name is expected as a third party; natural key: its e-mail.
  events::Expectation Expect(const events::ChangeEvent& current) const override;
  // Every third party (paged list): target_id = id, scim_id = ref_ext, natural_key = e-mail.
  // Third parties scimd did not create (customers, suppliers) are listed too, with no ref_ext.
  Result<events::RemoteInventory> Inventory(const std::vector<events::RemoteProbe>&) override;

 private:
  // Whether to send the department (see Deliver); adds notices to `outcome`. A transient error
  // when Dolibarr could not be asked.
  CallResult<bool> CheckDepartmentField(bool has_department, events::DeliveryOutcome& outcome);
  // With a key that may not read extra-field definitions: what a PUT's answer shows instead (its
  // array_options lists every defined extra field), with the notice that goes with it.
  void LearnDepartmentField(const UpdateAnswer& answer, bool has_department,
                            events::DeliveryOutcome& outcome);
  std::string NotDefinedNotice() const;
  // The outcome of a failed update of third party `id` (names the e-mail's holder when
  // SOCIETE_EMAIL_UNIQUE refused it).
  events::DeliveryOutcome UpdateFailure(const std::string& id, const ThirdPartyFields& fields,
                                        const CallError& error) const;

  std::string name_;
  std::set<std::string> resources_;
  std::unique_ptr<DolibarrClient> client_;
  std::chrono::seconds department_recheck_;

  std::mutex department_mu_;  // guards the five below
  bool department_checked_ = false;
  std::chrono::steady_clock::time_point department_checked_at_{};
  std::optional<bool> department_defined_;  // nullopt: could not tell (not an admin key)
  bool department_reported_ = false;        // the "not defined" notice was sent ...
  std::chrono::steady_clock::time_point department_reported_at_{};  // ... then
};

}  // namespace scim::adapters::dolibarr
