// CrmAdapter's reconciliation capability (crm_adapter.h).

#include "adapters/crm/crm_adapter.h"
#include "scim/common/strings.h"

namespace scim::adapters::crm {
namespace {

Error Unavailable(const CallError& error) { return Error(ErrorCode::kUnavailable, error.message); }

events::RemoteRecord UserRecord(const CrmUser& user) {
  auto scim = user.external_ids.find("scim");
  return {"User", user.id, scim == user.external_ids.end() ? "" : scim->second,
          ToLower(user.email)};
}

}  // namespace

events::Expectation CrmAdapter::Expect(const events::ChangeEvent& current) const {
  events::Expectation expected;
  if (!Handles(current)) return expected;
  auto payload = EventPayload::Parse(current);
  if (!payload.ok() || payload->resource() == nullptr) return expected;
  const json::Value& resource = *payload->resource();
  if (current.resource_type == "User") {
    expected.natural_key = ToLower(PrimaryValue(resource, "emails").value_or(""));
    expected.should_exist = !expected.natural_key.empty();
  } else if (current.resource_type == "Group") {
    expected.should_exist = KindOfGroup(resource) != GroupKind::kPlain;
  }
  return expected;
}

Result<events::RemoteInventory> CrmAdapter::Inventory(
    const std::vector<events::RemoteProbe>& probes) {
  events::RemoteInventory inventory;
  inventory.complete = false;
  for (const events::RemoteProbe& probe : probes) {
    if (probe.resource_type == "User") {
      auto found = probe.target_id ? client_->GetUser(*probe.target_id)
                                   : client_->FindUserByScimId(probe.resource_id);
      if (!found.ok()) return Unavailable(found.error());
      if (*found) inventory.records.push_back(UserRecord(**found));
    } else if (probe.resource_type == "Group" && probe.target_id) {
      if (*probe.target_id == probe.resource_id) {  // a store: linked by its external_id
        inventory.unchecked.insert(*probe.target_id);
        continue;
      }
      auto memberships = client_->ListMemberships(*probe.target_id);
      if (!memberships.ok()) return Unavailable(memberships.error());
      if (*memberships) inventory.records.push_back({"Group", *probe.target_id, "", ""});
    }
  }
  return inventory;
}

}  // namespace scim::adapters::crm
