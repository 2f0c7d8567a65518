#pragma once
// What Dolibarr's answers mean when they are not the JSON a call expects, named by status and
// cause (recorded from a real Dolibarr 22.0.4: shared/fixtures/dolibarr-22.0.4-capture.jsonl,
// copied to tests/fakes/fixtures/). Pure functions: unit-tested without a server.

#include <optional>
#include <string>
#include <string_view>

#include "adapters/common/call_result.h"
#include "adapters/common/http_client.h"

namespace scim::adapters::dolibarr {

// CallError::code of a create refused because another third party has the e-mail and Dolibarr's
// SOCIETE_EMAIL_UNIQUE is set (a 500 that no retry fixes: the adapter fails that record only).
inline constexpr std::string_view kEmailTakenCode = "email_unique";

// The message of Dolibarr's error shape {"error":{"code":..,"message":"..","0":"Detail",...}},
// with the non-null numeric-key details appended in parentheses; "" when the body is not that.
std::string ErrorDetail(const HttpResponse& response);

// nullopt when `response` is usable: a JSON 2xx, or a JSON 404 carrying Dolibarr's "not found"
// detail ("Thirdparty not found", "No third parties found"), which callers interpret. Otherwise
// the CallError for the delivery's last_error, `what` ("dolibarr GET /thirdparties/1") first:
//   2xx not JSON: 202 HTML = the database is down (Dolibarr prints its error page with 202);
//                 200 HTML = the API module is disabled; both transient (http_status 0);
//   401 = the API key is refused, 403 = its user lacks a permission (permanent);
//   404 not JSON = no Dolibarr API at the configured URL; JSON 404 "Not Found" without detail =
//                 Dolibarr's router has no such method (Restler answers 404, never 405);
//   500 naming "is assigned to another third" = SOCIETE_EMAIL_UNIQUE (code kEmailTakenCode);
//   anything else: "HTTP <status>: <Dolibarr's message>", transient for 408, 429 and 5xx.
std::optional<CallError> ClassifyAnswer(std::string_view what, const HttpResponse& response);

}  // namespace scim::adapters::dolibarr
