#pragma once
// The table of `scimd sync status`.

#include <string>
#include <vector>

#include "scim/store/delivery_status.h"

namespace scim::app {

// One line per target with its counts, oldest pending age and last error.
std::string SyncStatusText(const std::vector<store::TargetStatus>& targets);

}  // namespace scim::app
