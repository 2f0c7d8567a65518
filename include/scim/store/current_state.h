#pragma once
// A resource's current state in the shape of an outbox event, for re-sending it to a target
// outside the outbox (`scimd sync reconcile`).

#include <optional>
#include <string>

#include "scim/common/result.h"
#include "scim/events/change_event.h"
#include "scim/store/database.h"

namespace scim::store {

// A synthetic ChangeEvent of `kind` carrying the resource as it is now: the payload is built as
// RecordChange() builds the outbox's (resource without members; for a Group every member, with
// its role, as a replaced member delta), seq 0, version = the current version. nullopt when the
// resource does not exist.
Result<std::optional<events::ChangeEvent>> CurrentStateEvent(Database& db,
                                                             const std::string& tenant,
                                                             const std::string& resource_type,
                                                             const std::string& id,
                                                             events::ChangeKind kind);

}  // namespace scim::store
