#pragma once
// Maps SCIM Users to Zoho Books users (product.md): name, email (primary, else first) and a
// role_id from the target's role mapping; `active` false/true → mark inactive/active; delete →
// remove from the organization. Groups are not sent to Zoho Books.
//
// Invitations: a new Zoho user is `invited` until they accept, and Zoho refuses to mark an
// invited user inactive. So an inactive SCIM user is not created (no invitation is sent) until it
// becomes active, and deactivating a user whose invitation is still pending withdraws it (the
// Zoho user is deleted and the link dropped); reactivating invites them again.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/zoho_books/zoho_books_client.h"
#include "scim/events/reconcilable.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters::zoho_books {

// Which Zoho role_id a SCIM user gets: the mapping entry for the user's role value (primary,
// else first; compared case-insensitively), else the default, else none (Zoho's default role).
struct RoleMapping {
  std::map<std::string, std::string> by_scim_role;  // lower-cased SCIM role value → role_id
  std::optional<std::string> default_role_id;
};

class ZohoBooksAdapter : public events::TargetAdapter, public events::Reconcilable {
 public:
  // `email_index_max_age` (setting `email_lookup_cache_seconds`, default 0 = off): how long the
  // e-mail index of one full user listing serves the look-ups of inactive users without a link
  // (see FindInactive).
  ZohoBooksAdapter(std::string name, std::set<std::string> resources, RoleMapping roles,
                   std::unique_ptr<ZohoBooksClient> client,
                   std::chrono::seconds email_index_max_age = std::chrono::seconds(0));

  std::string_view Name() const override { return name_; }
  std::string_view Type() const override { return "zoho_books"; }
  bool Handles(const events::ChangeEvent& event) const override;

  // Create/replace/patch: read the linked user (or find one by email when there is no valid
  // link), update name/email/role only when they differ, then mark it active/inactive when its
  // status differs; create it when none exists. Delete: delete the linked user (404: gone).
  events::DeliveryOutcome Deliver(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) override;

  events::Reconcilable* AsReconcilable() override { return this; }
  // Active SCIM Users with an e-mail are expected (inactive ones are not created: see above);
  // natural key: the e-mail.
  events::Expectation Expect(const events::ChangeEvent& current) const override;
  // Every Zoho user not deleted (paged list): target_id = user_id, natural_key = e-mail. Zoho
  // users carry no SCIM id, so none of them can be proven to be scimd's.
  Result<events::RemoteInventory> Inventory(const std::vector<events::RemoteProbe>&) override;

 private:
  // Brings an existing Zoho user in line with the SCIM user.
  events::DeliveryOutcome Sync(const ZohoUser& current, const ZohoUserFields& wanted, bool active);

  // The Zoho user with `email` for an inactive SCIM user without a link (to deactivate one
  // created by hand or by a lost delivery). Zoho cannot filter users by e-mail, so each look-up
  // pages through every user: at 100,000 users that is 500 pages per inactive user. With
  // `email_index_max_age` set, one listing's e-mail → user_id index answers the look-ups for
  // that long (users this adapter creates or renames are added); a user it names is read again
  // by id before use (and a stale entry triggers a fresh listing). What it can miss: a Zoho user
  // created outside scimd since the listing, for at most that age.
  CallResult<std::optional<ZohoUser>> FindInactive(const std::string& email);
  void Remember(const std::string& email, const std::string& user_id);

  std::string name_;
  std::set<std::string> resources_;
  RoleMapping roles_;
  std::unique_ptr<ZohoBooksClient> client_;
  std::chrono::seconds email_index_max_age_;

  std::mutex listing_mu_;  // one listing at a time (the others wait and use it)
  std::mutex index_mu_;    // guards the four below
  std::optional<std::chrono::steady_clock::time_point> index_taken_;  // when the listing began
  std::unordered_map<std::string, std::string> index_;  // lower-cased e-mail → user_id
  bool listing_ = false;  // a listing is under way; Remember also notes into:
  std::vector<std::pair<std::string, std::string>> listed_meanwhile_;
};

}  // namespace scim::adapters::zoho_books
