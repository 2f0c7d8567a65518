#pragma once
// SafeRoute: the wrapper every scimd route goes through, so that a failing route can neither
// leak internals nor leave a client hanging. Pistache 0.0.5 turns an exception escaping a route
// into a 500 whose body is what() (SQL text, file names...), and a route that never calls
// send() leaves the client waiting for its own timeout.

#include <pistache/router.h>

#include <functional>

#include "http/error_log.h"

namespace scim::http {

// A route body. It answers through `response` (ResponseWriter::send) before it returns; it must
// not keep `response` to answer later. It may throw.
using RouteBody = std::function<void(const Pistache::Rest::Request& request,
                                     Pistache::Http::ResponseWriter& response)>;

// Wraps `body` as a Rest::Router handler. Guarantees, for each request:
//  - every exception `body` throws (std::exception or not) is caught and reported to `log`
//    with the method and path; its message never reaches the client;
//  - if `body` did not send a response (it threw first, or returned without answering), a SCIM
//    error 500 {"status":"500","detail":"Internal server error."} is sent, with
//    Content-Type application/scim+json. Headers `body` had set are dropped, except Connection;
//  - if `body` answered and then threw, nothing more is sent (the exception is logged);
//  - the router always gets Route::Result::Ok.
Pistache::Rest::Route::Handler SafeRoute(RouteBody body, ErrorLog log = LogHttpError);

}  // namespace scim::http
