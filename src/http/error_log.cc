#include "http/error_log.h"

#include <string>

#include "scim/common/log.h"

namespace scim::http {

void LogHttpError(std::string_view message) { log::Error("http: " + std::string(message)); }

}  // namespace scim::http
