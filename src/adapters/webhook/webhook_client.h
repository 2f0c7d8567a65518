#pragma once
// Pushes Security Event Tokens to a receiver (RFC 8935): POST <url> with the compact JWS as
// body, `Content-Type: application/secevent+jwt`, `Accept: application/json`, and an optional
// bearer token. Success is any 2xx (202 Accepted by the RFC). A 400 carries
// {"err","description"}; 3xx (redirects are not followed) and other 4xx are permanent, 408,
// 429 and 5xx transient.

#include <optional>
#include <string>

#include "adapters/common/call_result.h"
#include "adapters/common/http_client.h"

namespace scim::adapters::webhook {

// Thread-safe.
class WebhookClient {
 public:
  WebhookClient(std::string url, std::optional<std::string> bearer_token,
                HttpClientOptions http_options);

  // Sends one SET.
  CallStatus Push(const std::string& compact_set) const;

 private:
  std::string url_;
  std::optional<std::string> bearer_token_;
  HttpClient http_;
};

}  // namespace scim::adapters::webhook
