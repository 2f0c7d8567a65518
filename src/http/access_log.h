#pragma once
// The access log: one record per request, written as a scim::log record (a JSON object the
// json log format merges into its line): method, route (the pattern, not the path: ids are not
// logged), status, ms, token name, tenant, client address, request id.

#include <string>

#include "http/exchange.h"

namespace scim::http {

void LogAccess(const HttpRequest& request, const std::string& route, int status, double seconds);

// The request id to use for `client_value` (the X-Request-Id header): the client's when it is
// 1-128 characters of [A-Za-z0-9._:-], otherwise a new random one (32 hex digits).
std::string RequestIdFor(const std::optional<std::string>& client_value);

}  // namespace scim::http
