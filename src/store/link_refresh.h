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

// The User's delivery waiting at a follower (pending; placeholders $1 target, $2 tenant, $3
// resource id), which QueueLinkRefresh looks for once per follower and link change. The
// redundant `status <> 'delivered'` term lets SQLite's planner use the partial index
// deliveries_resource (target, tenant, resource_id, seq) WHERE status <> 'delivered' (it does
// not derive it from `status = 'pending'`): without it, and without statistics, SQLite walked
// deliveries_tenant_pending, i.e. every pending row of the tenant at that target, per link
// change (6 ms at 15,000 pending CRM rows, 67% of scimd's CPU in the 20,000-user drain, growing
// with the backlog; 0.014 ms with the index). PostgreSQL proves the partial predicate either way.
// tests/store/delivery_claim_plan_test.cc checks the plans on both databases.
inline constexpr const char* kWaitingRowSql =
    "SELECT id FROM deliveries WHERE target = $1 AND tenant = $2 AND resource_id = $3 AND "
    "status <> 'delivered' AND status = 'pending' LIMIT 1";

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
