#pragma once
// Reads the audit log (table audit_log), which the store writes in the transaction of every
// change: who changed which resource, when, to which version.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store {

struct AuditEntry {
  std::string time;
  std::string actor;
  std::string action;  // create | replace | patch | delete
  std::string resource_type;
  std::string resource_id;
  long long version = 0;
};

struct AuditQuery {
  std::string tenant;
  std::optional<std::string> since;        // canonical timestamp; entries at or after it
  std::optional<std::string> resource_id;
  int limit = 1000;
};

// Entries in commit order, oldest first.
Result<std::vector<AuditEntry>> ReadAuditLog(Database& db, const AuditQuery& query);

}  // namespace scim::store
