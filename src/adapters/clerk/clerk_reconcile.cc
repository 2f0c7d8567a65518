// ClerkAdapter's reconciliation capability (clerk_adapter.h).

#include "adapters/clerk/clerk_adapter.h"
#include "scim/common/strings.h"

namespace scim::adapters::clerk {
namespace {

Error Unavailable(const CallError& error) { return Error(ErrorCode::kUnavailable, error.message); }

}  // namespace

events::Expectation ClerkAdapter::Expect(const events::ChangeEvent& current) const {
  events::Expectation expected;
  if (!Handles(current)) return expected;
  auto payload = EventPayload::Parse(current);
  if (!payload.ok() || payload->resource() == nullptr) return expected;
  const json::Value& resource = *payload->resource();
  if (current.resource_type == "User") {
    expected.natural_key = ToLower(PrimaryValue(resource, "emails").value_or(""));
    expected.should_exist = true;
  } else if (current.resource_type == "Group") {
    expected.should_exist = KindOfGroup(resource) == GroupKind::kOrganization;
  }
  return expected;
}

Result<events::RemoteInventory> ClerkAdapter::Inventory(
    const std::vector<events::RemoteProbe>& /*probes*/) {
  events::RemoteInventory inventory;
  inventory.complete = true;
  if (resources_.contains("User")) {
    auto users = client_->ListUsers();
    if (!users.ok()) return Unavailable(users.error());
    for (const ClerkUser& user : *users) {
      inventory.records.push_back({"User", user.id, user.external_id, ToLower(user.primary_email)});
    }
  }
  if (resources_.contains("Group")) {
    auto orgs = client_->ListOrganizations();
    if (!orgs.ok()) return Unavailable(orgs.error());
    for (const ClerkOrganization& org : *orgs) {
      inventory.records.push_back({"Group", org.id, org.scim_id, ""});
    }
  }
  return inventory;
}

}  // namespace scim::adapters::clerk
