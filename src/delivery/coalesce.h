#pragma once
// Coalescing (private to the delivery module): the pending changes of one resource claimed
// together (store::ClaimedDelivery::coalesced, store::CoalesceRule) reach a target as one call
// with one event that brings it to the last change's state (TargetAdapter::Coalesces()).

#include <string>
#include <vector>

#include "scim/events/change_event.h"
#include "scim/store/delivery_store.h"

namespace scim::delivery {

// Whether `next` may join `run` (events of one resource in seq order): not after a delete, and
// for a Group at most one event of the run carries "members" (membership deltas are not
// composed).
bool CanCoalesce(const std::vector<const events::ChangeEvent*>& run,
                 const events::ChangeEvent& next);

// The one event of a run (`events`: in seq order, at least two): the last event's resource,
// version, seq, request id and timestamp; kind kCreated when the run starts with a create (and
// does not end with a delete), kDeleted when it ends with one, else the last event's kind;
// "active_before" is `active` before the run (set only when the run flipped it),
// "external_ids_removed" the union of the run's, "role_change" the last one with the first one's
// "before", "members" the run's one membership change.
events::ChangeEvent CoalesceEvents(const std::vector<const events::ChangeEvent*>& events);

// Whether a claimed run (`head.event` still the row's own) can be closed without calling the
// target: it creates the resource and deletes it again, and its create was never attempted (a
// create is a resource's first event, so nothing of it can have reached the target).
bool NothingToSend(const store::ClaimedDelivery& head);

// The note an operator sees on every row of a coalesced call (its last_error, also when
// delivered): "coalesced: seq A..B (N changes) in one call as delivery ID".
std::string CoalescedNote(const store::ClaimedDelivery& head);

}  // namespace scim::delivery
