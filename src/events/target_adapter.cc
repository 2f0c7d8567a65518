#include "scim/events/target_adapter.h"

namespace scim::events {

const char* DeliveryStatusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kRetry:
      return "retry";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "failed";
}

std::vector<DeliveryOutcome> TargetAdapter::DeliverBatch(const std::vector<BatchItem>& items) {
  std::vector<DeliveryOutcome> outcomes;
  outcomes.reserve(items.size());
  for (const BatchItem& item : items) outcomes.push_back(Deliver(*item.event, *item.context));
  return outcomes;
}

}  // namespace scim::events
