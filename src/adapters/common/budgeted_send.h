#pragma once
// Sending a request within a target's client-side budget (RateLimiter): wait for a slot (or
// refuse when the wait is too long, as a client-rate-limited CallError with retry_after), send,
// and on the target's own 429 pause every caller for its Retry-After.

#include <chrono>
#include <string>

#include "adapters/common/call_result.h"
#include "adapters/common/http_client.h"
#include "adapters/common/rate_limiter.h"

namespace scim::adapters {

// `what` names the call in the error ("crm POST /users"); `pause_without_retry_after` is how long
// a 429 without a usable Retry-After pauses the target.
CallResult<HttpResponse> SendWithinBudget(const HttpClient& http, RateLimiter& limiter,
                                          const HttpRequest& request, const std::string& what,
                                          std::chrono::seconds pause_without_retry_after);

}  // namespace scim::adapters
