#pragma once
// Link refreshes: a target that carries other targets' ids of a User (the CRM's `externalIds`,
// TargetAdapter::WantsLinkChanges) must hear of a link recorded or dropped after its own
// delivery ran (product.md, "What the targets receive": the CRM user carries the ids of every
// system linked so far). RecordAttempt calls QueueLinkRefresh in the transaction that writes the
// link, so the refresh exists exactly when the link change does. Also the member-role look-up
// of DeliveryContext (CurrentMemberRole).

#include <soci/soci.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scim/store/database.h"

namespace scim::store {

// Whether the link write of an attempt changes the User's links at `target`: reads the current
// link (call before writing it). `unlink`: the attempt drops the link; else `new_id` (empty:
// nothing recorded).
bool LinkWillChange(soci::session& s, Dialect dialect, const std::string& target,
                    const std::string& tenant, const std::string& resource_id, bool unlink,
                    const std::string& new_id);

// For each of `followers` other than `changed_target`: unless a delivery of the User is already
// waiting there (pending, not claimed: its context is read when it is claimed, after this
// transaction commits, so it carries the new link), inserts an outbox event for that target
// alone (`only_target`, kind "replaced", the User's current state, as a manual sync does). The
// waiting row is locked (FOR UPDATE on PostgreSQL) so that no claimer reads the links before this
// transaction commits; a claimer that already holds it makes the row in flight and a refresh is
// queued. The User's row is locked as a writer locks it, so the refresh's seq follows the seq of
// every change it contains (per-resource commit order). Nothing happens when the User is gone.
void QueueLinkRefresh(soci::session& s, Dialect dialect, const std::string& changed_target,
                      const std::string& tenant, const std::string& resource_id,
                      const std::vector<std::string>& followers);

// The current member role of User `user_id` (MemberRoleOf); nullopt when it is gone or the read
// fails.
std::optional<std::string> CurrentMemberRole(Database& db, const std::string& tenant,
                                             const std::string& user_id);

// CurrentMemberRole for several Users in one query per 500 ids: user id → role; ids of Users
// that are gone are absent.
std::map<std::string, std::string> CurrentMemberRoles(soci::session& s, const std::string& tenant,
                                                      const std::vector<std::string>& user_ids);

}  // namespace scim::store
