#include "adapters/zoho_books/zoho_books_adapter.h"

#include "adapters/common/scim_resource.h"
#include "scim/common/strings.h"

namespace scim::adapters::zoho_books {

using events::DeliveryOutcome;

ZohoBooksAdapter::ZohoBooksAdapter(std::string name, std::set<std::string> resources,
                                   RoleMapping roles, std::unique_ptr<ZohoBooksClient> client,
                                   std::chrono::seconds email_index_max_age)
    : name_(std::move(name)),
      resources_(std::move(resources)),
      roles_(std::move(roles)),
      client_(std::move(client)),
      email_index_max_age_(email_index_max_age) {}

void ZohoBooksAdapter::Remember(const std::string& email, const std::string& user_id) {
  std::lock_guard<std::mutex> lock(index_mu_);
  if (index_taken_) index_[ToLower(email)] = user_id;
  // A listing under way may have passed this user's page: its index gets it too.
  if (listing_) listed_meanwhile_.emplace_back(ToLower(email), user_id);
}

CallResult<std::optional<ZohoUser>> ZohoBooksAdapter::FindInactive(const std::string& email) {
  if (email_index_max_age_.count() <= 0) return client_->FindUserByEmail(email);
  using Clock = std::chrono::steady_clock;
  const std::string key = ToLower(email);
  auto lookup = [&]() -> std::optional<std::optional<std::string>> {
    std::lock_guard<std::mutex> lock(index_mu_);
    if (!index_taken_ || Clock::now() - *index_taken_ > email_index_max_age_) return std::nullopt;
    auto it = index_.find(key);
    return it == index_.end() ? std::optional<std::string>() : std::optional(it->second);
  };
  auto known = lookup();
  if (known && !*known) return std::optional<ZohoUser>();  // not there at the listing
  if (known) {
    auto current = client_->GetUser(**known);
    if (!current.ok()) return current.error();
    if (*current && (*current)->status != "deleted" && EqualsIgnoreCase((*current)->email, email)) {
      return *current;
    }
    // Gone or renamed since the listing: list again.
    std::lock_guard<std::mutex> lock(index_mu_);
    index_taken_.reset();
  }
  std::lock_guard<std::mutex> listing(listing_mu_);
  // Another delivery may have listed while this one waited: its miss is as good as ours (a hit
  // would need the re-read above; listing again is simpler and rare).
  if (auto again = lookup(); again && !*again) return std::optional<ZohoUser>();
  auto began = Clock::now();
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    listing_ = true;
    listed_meanwhile_.clear();
  }
  auto users = client_->ListUsers();
  if (!users.ok()) {
    std::lock_guard<std::mutex> lock(index_mu_);
    listing_ = false;
    return users.error();
  }
  std::unordered_map<std::string, std::string> index;
  std::optional<ZohoUser> found;
  for (ZohoUser& user : *users) {
    std::string lower = ToLower(user.email);
    if (lower == key && !found) found = user;
    index.emplace(std::move(lower), user.user_id);
  }
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    for (auto& [lower, user_id] : listed_meanwhile_) index[lower] = user_id;
    listing_ = false;
    index_ = std::move(index);
    index_taken_ = began;
  }
  return found;
}

bool ZohoBooksAdapter::Handles(const events::ChangeEvent& event) const {
  return resources_.contains(event.resource_type);
}

DeliveryOutcome ZohoBooksAdapter::Sync(const ZohoUser& current, const ZohoUserFields& wanted,
                                       bool active) {
  if (!active && current.status == "invited") {
    // Zoho cannot mark a user inactive before they accept the invitation, and a pending
    // invitation would let a deactivated person in: withdraw it (delete) and drop the link; a
    // later reactivation invites them again.
    auto deleted = client_->DeleteUser(current.user_id);
    if (!deleted.ok()) return deleted.error().ToOutcome();
    return DeliveryOutcome::Unlinked();
  }
  bool differs = current.name != wanted.name || !EqualsIgnoreCase(current.email, wanted.email) ||
                 (wanted.role_id && *wanted.role_id != current.role_id);
  if (differs) {
    auto updated = client_->UpdateUser(current.user_id, wanted);
    if (!updated.ok()) return updated.error().ToOutcome();
    if (!*updated)
      return DeliveryOutcome::Retry("zoho_books user " + current.user_id + " vanished");
    Remember(wanted.email, current.user_id);
  }
  bool is_inactive = current.status == "inactive";
  if (active == is_inactive) {
    auto toggled = client_->SetActive(current.user_id, active);
    if (!toggled.ok()) return toggled.error().ToOutcome();
  }
  return DeliveryOutcome::Delivered(current.user_id);
}

DeliveryOutcome ZohoBooksAdapter::Deliver(const events::ChangeEvent& event,
                                          const events::DeliveryContext& context) {
  if (event.resource_type != "User") return DeliveryOutcome::Delivered();
  auto payload = EventPayload::Parse(event);
  if (!payload.ok()) return DeliveryOutcome::Failed(payload.error().detail);

  if (event.kind == events::ChangeKind::kDeleted) {
    // Without a link there is nothing to find: the delete payload carries no email.
    if (!context.target_id) return DeliveryOutcome::Unlinked();
    auto deleted = client_->DeleteUser(*context.target_id);
    if (!deleted.ok()) return deleted.error().ToOutcome();
    return DeliveryOutcome::Unlinked();
  }

  const json::Value& user = *payload->resource();
  ZohoUserFields wanted;
  wanted.name = PersonName(user);
  wanted.email = PrimaryValue(user, "emails").value_or("");
  if (wanted.email.empty()) {
    return DeliveryOutcome::Failed("user " + event.resource_id +
                                   " has no email; Zoho Books requires one");
  }
  if (wanted.name.empty()) wanted.name = wanted.email;
  if (auto role = PrimaryValue(user, "roles")) {
    auto it = roles_.by_scim_role.find(ToLower(*role));
    if (it != roles_.by_scim_role.end()) wanted.role_id = it->second;
  }
  if (!wanted.role_id) wanted.role_id = roles_.default_role_id;
  bool active = IsActive(user);

  if (context.target_id) {
    auto current = client_->GetUser(*context.target_id);
    if (!current.ok()) return current.error().ToOutcome();
    if (*current && (*current)->status != "deleted") return Sync(**current, wanted, active);
    // Gone from Zoho: find it by email or create it again below.
  }
  // Zoho cannot filter users by email: a look-up pages through every user. On a first try of an
  // active user nothing of this delivery can be there yet, so create first and look up only if
  // Zoho refuses (the user may exist already, created by hand or by a lost earlier delivery).
  const bool create_first = active && context.attempt == 1;
  if (!create_first) {
    // An inactive user's look-up may use the listing's index (FindInactive); an active one's
    // decides whether to create, so it always lists.
    auto existing = active ? client_->FindUserByEmail(wanted.email) : FindInactive(wanted.email);
    if (!existing.ok()) return existing.error().ToOutcome();
    if (*existing) return Sync(**existing, wanted, active);
  }

  if (!active) {
    // Creating would send an invitation to someone who must not get in: wait until the user is
    // active (that change finds no link and creates the Zoho user then).
    DeliveryOutcome outcome = DeliveryOutcome::Delivered();
    outcome.unlink = context.target_id.has_value();
    return outcome;
  }
  auto created = client_->CreateUser(wanted);
  if (created.ok()) {
    Remember(wanted.email, *created);
    return DeliveryOutcome::Delivered(*created);
  }
  if (create_first && !created.error().Transient()) {
    auto existing = client_->FindUserByEmail(wanted.email);
    if (!existing.ok()) return existing.error().ToOutcome();
    if (*existing) return Sync(**existing, wanted, active);
  }
  return created.error().ToOutcome();
}

events::Expectation ZohoBooksAdapter::Expect(const events::ChangeEvent& current) const {
  events::Expectation expected;
  if (current.resource_type != "User" || !Handles(current)) return expected;
  auto payload = EventPayload::Parse(current);
  if (!payload.ok() || payload->resource() == nullptr) return expected;
  const json::Value& user = *payload->resource();
  expected.natural_key = ToLower(PrimaryValue(user, "emails").value_or(""));
  expected.should_exist = !expected.natural_key.empty() && IsActive(user);
  return expected;
}

Result<events::RemoteInventory> ZohoBooksAdapter::Inventory(
    const std::vector<events::RemoteProbe>&) {
  auto users = client_->ListUsers();
  if (!users.ok()) return Error(ErrorCode::kUnavailable, users.error().message);
  events::RemoteInventory inventory;
  for (const ZohoUser& user : *users) {
    inventory.records.push_back({"User", user.user_id, "", ToLower(user.email)});
  }
  return inventory;
}

}  // namespace scim::adapters::zoho_books
