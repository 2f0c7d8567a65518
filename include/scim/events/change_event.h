#pragma once
// A committed change to one resource, as recorded in the outbox in the same transaction as the
// write. Adapters see only these (and their own target's API).

#include <cstdint>
#include <string>

#include "scim/common/json.h"

namespace scim::events {

enum class ChangeKind { kCreated, kReplaced, kPatched, kDeleted };

const char* ChangeKindName(ChangeKind kind);           // "created", "replaced", ...
bool ParseChangeKind(std::string_view name, ChangeKind& out);

// Payload layout (JSON text in the outbox):
//   {"resource": {...full SCIM resource after the change, without members for Groups...},
//    "members": {"added": [{"value","type","role"}], "removed": [{"value","type"}],
//                "replaced": false},
//    "request_id": "..."}
// "request_id" is the X-Request-Id of the HTTP request that made the change (absent for changes
// without one, e.g. from the CLI), so a delivery can be traced to the request and its audit row.
// "active_before" (a boolean) is present when a replace or patch of a User flipped `active`
// (absent counting as true): its value before the change; the resource carries the new one.
// "external_ids_removed" (an array of strings) is present when a replace or patch of a User
// dropped systems from the scimd User extension's `externalIds`: those systems (the CRM nulls
// them). "role_change" ({"role","before","groups":[group ids]}) is present when a replace or
// patch of a User changed its member role (primary role, else first, else "member"): the new
// and old role and the user's direct groups at the change, whose organizations get the new role.
// "resource" is absent for kDeleted; "members" only when membership changed. With "replaced"
// true (PUT, or replace of the whole list) "added" holds every member after the change, not only
// the new ones, and "removed" those that left. "role" is the role
// of a User member (its primary role, else first, else "member"; product.md).
struct ChangeEvent {
  int64_t seq = 0;             // outbox sequence: commit order
  std::string tenant;
  std::string resource_type;   // "User" | "Group"
  std::string resource_id;
  ChangeKind kind = ChangeKind::kCreated;
  int64_t version = 0;         // meta.version after the change
  std::string payload;         // JSON text as above
  std::string created;         // timestamp of the commit
};

}  // namespace scim::events
