#pragma once
// Calling a target's adapter for claimed deliveries (private to the delivery module): each call's
// DeliveryContext is built from the queue, with the links of this batch's outcomes not yet
// recorded seen first; an adapter that throws gets a retryable outcome, never a crashed worker.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "delivery/delivery_queue.h"
#include "scim/delivery/dispatcher.h"
#include "scim/events/target_adapter.h"

namespace scim::delivery {

// Where the calls log (the dispatcher's Log).
using CallLog = std::function<void(LogLevel, const std::string&)>;

// Calls `adapter` (target `target`) for one claimed event; nullopt, with the row handed back,
// when its links cannot be read. `buffered`: outcomes of this batch not recorded yet, whose
// links the adapter's look-ups of other resources see first (a group after its new members).
std::optional<events::DeliveryOutcome> AttemptOne(
    DeliveryQueue& queue, const CallLog& log, const std::string& target,
    events::TargetAdapter& adapter, const ClaimedDelivery& c,
    const std::vector<DeliveryQueue::Answered>& buffered);

// Calls `adapter` once for the claimed events `batch` (TargetAdapter::DeliverBatch): element i
// is batch[i]'s outcome, nullopt (row handed back) when its links cannot be read. A wrong number
// of outcomes or an exception makes every event of the call a retry.
std::vector<std::optional<events::DeliveryOutcome>> AttemptBatch(
    DeliveryQueue& queue, const CallLog& log, const std::string& target,
    events::TargetAdapter& adapter, const std::vector<const ClaimedDelivery*>& batch,
    const std::vector<DeliveryQueue::Answered>& buffered);

// Whether `adapter` batches the event of `c` (false when Batchable throws).
bool IsBatchable(const events::TargetAdapter& adapter, const ClaimedDelivery& c);

}  // namespace scim::delivery
