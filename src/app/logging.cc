#include "app/logging.h"

#include "scim/common/log.h"

namespace scim::app {

Status ConfigureLogging(const std::string& format) {
  if (format == "json") {
    log::SetFormat(log::Format::kJson);
    return OkStatus();
  }
  if (format == "text" || format.empty()) {
    log::SetFormat(log::Format::kText);
    return OkStatus();
  }
  return Error(ErrorCode::kInvalidValue, "log.format must be json or text, got '" + format + "'");
}

}  // namespace scim::app
