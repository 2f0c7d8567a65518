#pragma once
// Where the HTTP layer reports failures that clients must not see (handler exceptions, routes
// that forgot to answer). Tests pass their own sink; the default is the common log.

#include <functional>
#include <string_view>

namespace scim::http {

// Receives one complete message per failure; may be called from any I/O thread at once.
using ErrorLog = std::function<void(std::string_view message)>;

// Writes "http: <message>" as an error line of scim::log (scim/common/log.h).
void LogHttpError(std::string_view message);

}  // namespace scim::http
