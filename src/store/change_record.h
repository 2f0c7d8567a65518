#pragma once
// What a write records besides its rows, in the same transaction: the outbox event (payload
// layout in scim/events/change_event.h) and the audit entry with the changed attributes.

#include <soci/soci.h>

#include <optional>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/events/change_event.h"
#include "store/membership.h"

namespace scim::store {

// Who made a change, for the audit log.
struct AuditWho {
  std::string tenant;
  std::string actor;
  std::string client;
  std::string request_id;
};

// What a replace or patch of a User changed that the targets cannot see in the new state alone
// (payload fields, scim/events/change_event.h). UserChangeFacts() fills it.
struct UserChange {
  // `active` before the change when the change flipped it ("active_before").
  std::optional<bool> active_before;
  // Systems of the scimd User extension's externalIds present before and gone now
  // ("external_ids_removed"): the CRM sets them to null.
  std::vector<std::string> external_ids_removed;
  // The member role (MemberRoleOf) before, when it changed ("role_change": the new role, the old
  // one and the user's direct groups, whose organizations get the new role).
  std::optional<std::string> role_before;
};

// The member role of a User in an organization: its primary role, else its first, else
// "member" (product.md, Group extension).
std::string MemberRoleOf(const json::Value& user);

// The UserChange between two states of User `id`.
UserChange UserChangeFacts(const json::Value& before, const json::Value& after);

// Records the outbox event (payload layout in scim/events/change_event.h) and the audit entry,
// whose `changes` is the JSON array AuditChanges() made (empty: none recorded). `user_change`:
// for a replace or patch of a User.
void RecordChange(soci::session& s, const AuditWho& who, const std::string& resource_type,
                  const std::string& id, events::ChangeKind kind, long long version,
                  const json::Value* resource, const MembershipDelta* members,
                  const std::string& changes = "", const UserChange& user_change = {});

// The changed attributes between `before` (nullptr: created) and `after` (nullptr: deleted) as a
// JSON array of {"attribute", "old", "new"}; complex attributes and extensions are compared one
// level down ("name.givenName", "urn:...:User:department"); meta, id and password are never
// shown: a password change is {"attribute": "password", "changed": true}. Group membership
// changes are {"attribute": "members", "added": [ids], "removed": [ids]}.
std::string AuditChanges(const json::Value* before, const json::Value* after, bool password_changed,
                         const MembershipDelta* members);

// Inserts one audit_log row.
void InsertAuditRow(soci::session& s, const AuditWho& who, const std::string& action,
                    const std::string& resource_type, const std::string& id, long long version,
                    const std::string& changes);

// The outbox payload RecordChange() writes (layout in scim/events/change_event.h), for callers
// that need the same shape without recording a change (sync reconcile's current-state events).
std::string OutboxPayload(soci::session& s, const std::string& tenant, const json::Value* resource,
                          const MembershipDelta* members);

}  // namespace scim::store
