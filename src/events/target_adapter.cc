#include "scim/events/target_adapter.h"

namespace scim::events {

const char* DeliveryStatusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kDelivered: return "delivered";
    case DeliveryStatus::kRetry: return "retry";
    case DeliveryStatus::kFailed: return "failed";
  }
  return "failed";
}

}  // namespace scim::events
