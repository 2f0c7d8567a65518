#pragma once
// The HTTP exchange as the route logic sees it: plain structs, no Pistache. The Pistache binding
// (router.cc) fills HttpRequest with percent-decoded query values and path parameters and writes
// HttpResponse back, headers included.

#include <map>
#include <optional>
#include <string>

#include "scim/common/strings.h"

namespace scim::http {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // resource path, decoded
  std::map<std::string, std::string> params;   // path parameters (":id" → "…"), decoded
  std::map<std::string, std::string> query;    // query parameters, decoded
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  // The client's IP address: the TCP peer's, or for HTTPS the one the TLS front accepted.
  std::string client_address;
  // The client's X-Request-Id when it is a sane token (1-128 of [A-Za-z0-9._:-]), else one
  // generated here; echoed in the response and logged.
  std::string request_id;
  // Who the request authenticated as, for the access log (empty when it did not).
  mutable std::string caller_tenant;
  mutable std::string caller_token;

  std::optional<std::string> Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> Query(const std::string& name) const {
    for (const auto& [key, value] : query) {
      if (EqualsIgnoreCase(key, name)) return value;
    }
    return std::nullopt;
  }
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/scim+json";
  std::optional<std::string> location;
  std::optional<std::string> etag;
  std::optional<std::string> www_authenticate;
  std::optional<std::string> retry_after;
  std::optional<std::string> allow;  // on a 405: the methods the path supports
  std::string request_id;            // sent as X-Request-Id when not empty
  // Static files (the console): a strict Content-Security-Policy and friends.
  bool static_file = false;
};

}  // namespace scim::http
