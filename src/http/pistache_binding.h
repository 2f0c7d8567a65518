#pragma once
// The only bridge between Pistache's request/response types and the route logic's
// HttpRequest/HttpResponse: query values and path parameters are percent-decoded here, and
// response headers are written with header classes Pistache actually serializes.

#include <pistache/router.h>

#include <string>

#include "http/exchange.h"
#include "scim/common/result.h"

namespace scim::http {

// Converts a Pistache request routed by `route` ("/scim/v2/Users/:id"): decoded path parameters
// (keys without ':'), decoded query, lower-cased header names, body. kBadRequest on a malformed
// percent-escape.
Result<HttpRequest> ToHttpRequest(const Pistache::Rest::Request& request, const std::string& route);

// Sends `response` with its status, Content-Type and headers.
void WriteResponse(const HttpResponse& response, Pistache::Http::ResponseWriter& writer);

std::string MethodName(Pistache::Http::Method method);

}  // namespace scim::http
