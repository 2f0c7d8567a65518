#pragma once
// The delivery answers of the admin API and /metrics, rendered from scim/store/delivery_status.h.

#include <string>
#include <vector>

#include "scim/store/delivery_status.h"

namespace scim::http {

// The admin answers of product.md: {"targets":[...]}, {"deliveries":[...]}, {"links":[...]}.
// last_error is null when absent.
std::string SyncStatusJson(const std::vector<store::TargetStatus>& targets);
std::string DeliveriesJson(const std::vector<store::DeliveryRow>& deliveries);
std::string LinksJson(const std::vector<store::Link>& links);

// The delivery part of `GET /metrics` (Prometheus text format, HELP/TYPE lines included):
//   scimd_outbox_depth
//   scimd_deliveries_total{target,outcome}   outcome: delivered, failed, pending (a gauge)
//   scimd_delivery_oldest_pending_seconds{target}
// Label values are escaped (backslash, double quote, newline).
std::string DeliveryMetricsText(const store::DeliveryMetrics& metrics);

}  // namespace scim::http
