#pragma once
// What the delivery engine tells an adapter about a resource (events::DeliveryContext), read from
// target_links and target_cursors. Shared by the dispatcher and `scimd sync reconcile`.

#include <string>

#include "scim/common/result.h"
#include "scim/events/change_event.h"
#include "scim/events/target_adapter.h"
#include "scim/store/database.h"

namespace scim::delivery {

// The links of `event`'s resource at every target (target_id set from `target`'s own), the other
// known targets without a link, and a lookup of `target`'s links of other resources (one query
// per call; a failed one gives nullopt). The idempotency key is left to the caller. `db` must
// outlive the returned lookup.
Result<events::DeliveryContext> LoadDeliveryContext(store::Database& db, const std::string& target,
                                                    const events::ChangeEvent& event);

}  // namespace scim::delivery
