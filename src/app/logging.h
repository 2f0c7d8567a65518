#pragma once
// How scimd's log lines look (config `log.format`): "text" is spdlog's default pattern; "json"
// writes one JSON object per line with "time" (UTC, ms), "level" and "msg". A message that is
// itself a JSON object (the access log's records) has its fields merged into the line instead of
// being quoted in "msg", so log pipelines can index them.

#include <string>

#include "scim/common/result.h"

namespace scim::app {

// Installs the formatter for `format` ("text" or "json") on every spdlog logger; kInvalidValue
// for another value.
Status ConfigureLogging(const std::string& format);

}  // namespace scim::app
