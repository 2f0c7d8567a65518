#pragma once
// The one place that maps ErrorCode to an HTTP status and SCIM scimType (RFC 7644 §3.12), and
// renders the SCIM error body.

#include <string>
#include <string_view>

#include "http/exchange.h"
#include "scim/common/error.h"

namespace scim::http {

struct HttpStatus {
  int status;
  const char* scim_type;  // nullptr when the error has no scimType
};

HttpStatus StatusOf(ErrorCode code);

// The one writer of the SCIM error body: {"schemas":[Error URN],"status":"<status>"[,"scimType":
// …],"detail":…}. `detail` is escaped; an empty `scim_type` is left out. The status is a string,
// as RFC 7644 §3.12 shows it. ErrorResponse (an Error) and SendScimError (framing, limits,
// handler crashes: no Error behind them) both write it.
std::string ScimErrorBody(int status, std::string_view detail, std::string_view scim_type = {});

// A response with the urn:ietf:params:scim:api:messages:2.0:Error body. kInternal details are
// logged and replaced by a generic text: they may hold SQL or file names.
HttpResponse ErrorResponse(const Error& error);
HttpResponse ErrorResponse(ErrorCode code, const std::string& detail);

}  // namespace scim::http
