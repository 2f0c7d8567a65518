#pragma once
// SCIM error responses (RFC 7644 §3.12) as the HTTP layer writes them, for the cases that have
// no scim::Error behind them (framing, limits, handler crashes).

#include <pistache/http.h>

#include <string>
#include <string_view>

namespace scim::http {

// The detail of every 500 the HTTP layer sends; it names nothing internal.
inline constexpr std::string_view kInternalErrorDetail = "Internal server error.";

// Media type of every SCIM body we send.
inline constexpr std::string_view kScimMediaType = "application/scim+json";

// The JSON body of a SCIM error: {"schemas":[Error URN],"status":"<status>"[,"scimType":…],
// "detail":…}. `detail` is escaped; an empty `scim_type` is left out. The status is a string, as
// RFC 7644 §3.12 shows it.
std::string ScimErrorBody(int status, std::string_view detail, std::string_view scim_type = {});

// Sends ScimErrorBody(code, detail, scim_type) with Content-Type application/scim+json on
// `response`. Headers already on `response` (Connection, for one) are kept. The returned promise
// is Pistache's: it settles once the bytes are written, or are known to be lost.
Pistache::Async::Promise<ssize_t> SendScimError(Pistache::Http::ResponseWriter& response,
                                                Pistache::Http::Code code, std::string_view detail,
                                                std::string_view scim_type = {});

}  // namespace scim::http
