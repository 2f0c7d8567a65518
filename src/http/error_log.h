#pragma once
// Where the HTTP layer reports failures that clients must not see (handler exceptions, routes
// that forgot to answer). The app passes its own logger; the default writes to stderr.

#include <functional>
#include <string_view>

namespace scim::http {

// Receives one complete message per failure; may be called from any I/O thread at once.
using ErrorLog = std::function<void(std::string_view message)>;

// Writes "scimd http: <message>\n" to stderr in one write.
void LogToStderr(std::string_view message);

}  // namespace scim::http
