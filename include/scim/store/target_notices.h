#pragma once
// Per-target notices (table target_notices, migration 010): standing conditions at a target that
// deliveries go on despite, e.g. "Dolibarr defines no extra field 'department'; values are not
// sent". Adapters report them in events::DeliveryOutcome::notices; the delivery engine stores them
// here; sync status (admin API, `scimd sync status`, console) shows them. Shared by every process
// on the database.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store {

struct TargetNotice {
  std::string topic;    // what it is about, e.g. "department"
  std::string message;  // for an operator
  std::string since;    // canonical timestamp: first recorded with this message
  std::string updated;  // canonical timestamp: last confirmed
};

// Applies `notices` for `target`: topic → message sets (or confirms) that notice, keeping `since`
// while the message stays the same; topic → nullopt removes it. One transaction.
Status SaveTargetNotices(Database& db, const std::string& target,
                         const std::map<std::string, std::optional<std::string>>& notices);

// `target`'s notices, by topic.
Result<std::vector<TargetNotice>> TargetNoticesOf(Database& db, const std::string& target);

}  // namespace scim::store
