#pragma once
// Config `log.format`: "text" or "json", the two formats of scim::log (scim/common/log.h, which
// describes them).

#include <string>

#include "scim/common/result.h"

namespace scim::app {

// Sets scim::log's format for `format` ("text", "json", or empty for text); kInvalidValue for
// another value.
Status ConfigureLogging(const std::string& format);

}  // namespace scim::app
