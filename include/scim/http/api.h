#pragma once
// The HTTP API of scimd: SCIM (/scim/v2), admin (/admin/v1) and operations (/healthz, /readyz,
// /metrics) routes on one Pistache router. This is where everything is wired together.

#include <pistache/router.h>

#include <functional>
#include <memory>
#include <string>

#include "scim/delivery/status.h"
#include "scim/schema/registry.h"
#include "scim/service/resource_service.h"
#include "scim/store/database.h"
#include "scim/store/token_store.h"

namespace scim::http {

struct ApiOptions {
  std::string public_url;
  size_t max_body_bytes = 1048576;
  int64_t max_page_size = 1000;
  int64_t bulk_max_operations = 1000;
  int64_t rate_limit_per_minute = 6000;
  // Failed authentications allowed per client address and minute; then 429 until it refills.
  int64_t auth_failures_per_minute = 60;
  std::vector<delivery::TargetRef> targets;  // configured delivery targets, for the admin API
  bool access_log = true;  // one log record per request (method, route, status, ms, caller)
  std::string version;     // for scimd_build_info
  // Extra Prometheus text for /metrics (the server's connection gauges, the database pool).
  std::function<std::string()> extra_metrics;
};

class Api;

// Builds the router. The returned Api object owns the handlers and must outlive the router.
std::shared_ptr<Api> BuildApi(std::shared_ptr<const schema::Registry> registry,
                              std::shared_ptr<store::Database> db,
                              std::shared_ptr<service::ResourceService> service,
                              std::shared_ptr<store::TokenStore> tokens, const ApiOptions& options,
                              Pistache::Rest::Router& router);

}  // namespace scim::http
