#pragma once
// Outbox events that re-deliver a resource's current state outside of a write: a manual sync
// (RecordManualSync, scim/store/audit_log.h) and a link refresh (store/link_refresh.h).

#include <soci/soci.h>

#include <optional>
#include <string>

namespace scim::store {

// Inserts an outbox event of kind "replaced" for the resource (`payload`: OutboxPayload of its
// current state at `version`), created now. `only_target`: the one target it is for (the
// outbox's only_target, which fan-out and reconcile honour); nullopt: every target. The caller
// holds the resource's row lock in its transaction and, on PostgreSQL, has its xid before this
// draws the seq (the fan-out's settle rule, scim/store/delivery_store.h).
void InsertReplayEvent(soci::session& s, const std::string& tenant,
                       const std::string& resource_type, const std::string& resource_id,
                       long long version, const std::string& payload,
                       const std::optional<std::string>& only_target);

}  // namespace scim::store
