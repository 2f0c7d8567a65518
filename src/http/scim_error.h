#pragma once
// SCIM error responses (RFC 7644 §3.12) sent straight on a Pistache response, for the cases that
// have no scim::Error behind them (framing, limits, handler crashes). The body is ScimErrorBody's.

#include <pistache/http.h>

#include <string>
#include <string_view>

namespace scim::http {

// The detail of every 500 the HTTP layer sends; it names nothing internal.
inline constexpr std::string_view kInternalErrorDetail = "Internal server error.";

// Media type of every SCIM body we send.
inline constexpr std::string_view kScimMediaType = "application/scim+json";

// Sends ScimErrorBody(code, detail, scim_type) (http/error_response.h, the one writer of the
// body) with Content-Type application/scim+json on `response`. Headers already on `response`
// (Connection, for one) are kept. The returned promise is Pistache's: it settles once the bytes are
// written, or are known to be lost.
Pistache::Async::Promise<ssize_t> SendScimError(Pistache::Http::ResponseWriter& response,
                                                Pistache::Http::Code code, std::string_view detail,
                                                std::string_view scim_type = {});

}  // namespace scim::http
