#include "adapters/dolibarr/dolibarr_adapter.h"

#include "adapters/common/scim_resource.h"
#include "scim/common/strings.h"

namespace scim::adapters::dolibarr {
namespace {

using events::DeliveryOutcome;

// The fields of a third party for `user`. On updates, absent attributes are sent empty so a
// removed email/phone/department is cleared in Dolibarr too.
ThirdPartyFields MapUser(const std::string& scim_id, const json::Value& user, bool create) {
  ThirdPartyFields fields;
  fields.name = PersonName(user);
  auto email = PrimaryValue(user, "emails");
  auto phone = PrimaryValue(user, "phoneNumbers");
  auto department = Department(user);
  if (email || !create) fields.email = email.value_or("");
  if (phone || !create) fields.phone = phone.value_or("");
  if (department || !create) fields.department = department.value_or("");
  fields.status = IsActive(user) ? 1 : 0;
  fields.ref_ext = scim_id;
  fields.customer_supplier_flags = create;
  return fields;
}

}  // namespace

DolibarrAdapter::DolibarrAdapter(std::string name, std::set<std::string> resources,
                                 std::unique_ptr<DolibarrClient> client)
    : name_(std::move(name)), resources_(std::move(resources)), client_(std::move(client)) {}

bool DolibarrAdapter::Handles(const events::ChangeEvent& event) const {
  return resources_.contains(event.resource_type);
}

DeliveryOutcome DolibarrAdapter::Deliver(const events::ChangeEvent& event,
                                         const events::DeliveryContext& context) {
  if (event.resource_type != "User") return DeliveryOutcome::Delivered();
  auto payload = EventPayload::Parse(event);
  if (!payload.ok()) return DeliveryOutcome::Failed(payload.error().detail);

  if (event.kind == events::ChangeKind::kDeleted) {
    std::optional<std::string> id = context.target_id;
    if (!id) {
      // A create whose link was never recorded (crash after the POST) left it under ref_ext.
      auto found = client_->FindByRefExt(event.resource_id);
      if (!found.ok()) return found.error().ToOutcome();
      if (!*found) return DeliveryOutcome::Unlinked();
      id = (*found)->id;
    }
    auto deleted = client_->Delete(*id);
    if (!deleted.ok()) return deleted.error().ToOutcome();
    return DeliveryOutcome::Unlinked();
  }

  const json::Value& user = *payload->resource();
  ThirdPartyFields update = MapUser(event.resource_id, user, /*create=*/false);
  if (update.name.empty()) {
    return DeliveryOutcome::Failed("user " + event.resource_id + " has no name to send");
  }
  if (context.target_id) {
    auto updated = client_->Update(*context.target_id, update);
    if (!updated.ok()) return updated.error().ToOutcome();
    if (*updated) return DeliveryOutcome::Delivered(context.target_id);
    // 404: deleted in Dolibarr behind scimd's back; find or recreate it below.
  }

  std::optional<std::string> existing;
  auto by_ref = client_->FindByRefExt(event.resource_id);
  if (!by_ref.ok()) return by_ref.error().ToOutcome();
  if (*by_ref) existing = (*by_ref)->id;
  if (!existing && update.email && !update.email->empty()) {
    auto by_email = client_->FindByEmail(*update.email);
    if (!by_email.ok()) return by_email.error().ToOutcome();
    // Adopt it unless another SCIM user already owns it.
    if (*by_email &&
        ((*by_email)->ref_ext.empty() || (*by_email)->ref_ext == event.resource_id)) {
      existing = (*by_email)->id;
    }
  }
  if (existing) {
    auto updated = client_->Update(*existing, update);
    if (!updated.ok()) return updated.error().ToOutcome();
    if (*updated) return DeliveryOutcome::Delivered(existing);
  }
  auto created = client_->Create(MapUser(event.resource_id, user, /*create=*/true));
  if (!created.ok()) return created.error().ToOutcome();
  return DeliveryOutcome::Delivered(*created);
}

events::Expectation DolibarrAdapter::Expect(const events::ChangeEvent& current) const {
  events::Expectation expected;
  if (current.resource_type != "User" || !Handles(current)) return expected;
  auto payload = EventPayload::Parse(current);
  if (!payload.ok() || payload->resource() == nullptr) return expected;
  const json::Value& user = *payload->resource();
  expected.should_exist = !PersonName(user).empty();
  expected.natural_key = ToLower(PrimaryValue(user, "emails").value_or(""));
  return expected;
}

Result<events::RemoteInventory> DolibarrAdapter::Inventory(
    const std::vector<events::RemoteProbe>&) {
  auto all = client_->ListAll();
  if (!all.ok()) return Error(ErrorCode::kUnavailable, all.error().message);
  events::RemoteInventory inventory;
  for (const ThirdParty& tp : *all) {
    inventory.records.push_back({"User", tp.id, tp.ref_ext, ToLower(tp.email)});
  }
  return inventory;
}

}  // namespace scim::adapters::dolibarr
