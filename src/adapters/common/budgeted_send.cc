#include "adapters/common/budgeted_send.h"

#include <algorithm>

namespace scim::adapters {

CallResult<HttpResponse> SendWithinBudget(const HttpClient& http, RateLimiter& limiter,
                                          const HttpRequest& request, const std::string& what,
                                          std::chrono::seconds pause_without_retry_after) {
  std::chrono::milliseconds needed(0);
  if (!limiter.Acquire(&needed)) {
    CallError error =
        CallError::Transport(what + ": client-side limit of " +
                             std::to_string(limiter.per_minute()) + " requests a minute reached");
    error.retry_after_seconds = static_cast<int>((needed.count() + 999) / 1000);
    error.client_rate_limited = true;
    return error;
  }
  auto response = http.Send(request);
  if (response.ok() && response->status == 429) {
    const int fallback = static_cast<int>(pause_without_retry_after.count());
    auto retry_after = response->Header("Retry-After");
    int seconds = retry_after ? ParseRetryAfter(*retry_after).value_or(fallback) : fallback;
    limiter.Pause(std::chrono::seconds(std::max(1, seconds)));
  }
  return response;
}

}  // namespace scim::adapters
