#pragma once
// GET /console/...: the admin console's static files, compiled into the binary. No
// authentication (the page asks for a token and calls the admin and SCIM APIs with it); every
// answer carries Cache-Control: no-store, X-Content-Type-Options: nosniff and a strict
// Content-Security-Policy (no inline script, nothing from elsewhere).

#include <string>

#include "http/exchange.h"

namespace scim::http {

// The answer for a request path under /console: "/console" redirects to "/console/", which is
// index.html; "/console/NAME" is that embedded file; anything else is 404.
HttpResponse ServeConsole(const std::string& path);

// The Content-Type of a file name by its extension.
std::string ConsoleContentType(const std::string& name);

}  // namespace scim::http
