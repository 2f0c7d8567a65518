#pragma once
// The HTTP client every adapter uses: libcurl behind a small synchronous interface. One request
// per call, with connect and total timeouts, no redirects (a 3xx is returned as an answer), a
// cap on the answer size, and connections reused across calls and threads.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/common/call_result.h"

namespace scim::adapters {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string url;             // absolute, query already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;            // sent as is; empty means none (Content-Length: 0 on POST/PUT)
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; a repeated header keeps the last
  std::string body;

  // The value of header `name` (any case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  // Whether the answer says it is JSON (Content-Type contains "json").
  bool IsJson() const;
  bool Success() const { return status >= 200 && status < 300; }
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{30000};  // whole request, connect included
  std::string user_agent = "scimd/0.1.0";
  size_t max_response_bytes = 8 * 1024 * 1024;
};

// Thread-safe: Send() may be called from several threads at once; they share the connection
// cache.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request`. Every HTTP answer, whatever its status, is a response; a CallError (with
  // http_status 0, transient) means there was none: DNS, connect, TLS, timeout, or an answer
  // above max_response_bytes. The error message names the method and the URL's path, never its
  // query (which may hold credentials).
  CallResult<HttpResponse> Send(const HttpRequest& request) const;

  const HttpClientOptions& options() const { return options_; }

 private:
  struct Shared;
  HttpClientOptions options_;
  std::unique_ptr<Shared> shared_;
};

// Parses a Retry-After value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as seconds from
// `now` (never negative). nullopt when the value is neither.
std::optional<int> ParseRetryAfter(std::string_view value,
                                   std::chrono::system_clock::time_point now =
                                       std::chrono::system_clock::now());

// Percent-encodes everything but RFC 3986 unreserved characters (for path segments and query
// values).
std::string UrlEncode(std::string_view text);

// The URL without its query string and fragment, for error messages.
std::string UrlForLog(std::string_view url);

// A CallError for a non-2xx answer: "<what>: HTTP <status>: <detail>", with the answer's
// Retry-After. `detail` is the target's message (the caller extracts it from its error shape);
// when empty, the start of the body is used.
CallError ErrorFromResponse(std::string_view what, const HttpResponse& response,
                            std::string detail = {}, std::string code = {});

}  // namespace scim::adapters
