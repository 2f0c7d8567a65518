#pragma once
// The audit log (table audit_log). The store writes an entry in the transaction of every change
// (resource writes, manual syncs); admin actions (tokens, tenants, retries) are recorded with
// RecordAudit. Each entry says who (actor, client address, request id), when, what (action,
// resource type and id, version) and which attributes changed, with old and new values.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store {

struct AuditEntry {
  std::string tenant;
  std::string time;
  std::string actor;
  std::string action;  // create | replace | patch | delete | sync | token.create | ...
  std::string resource_type;
  std::string resource_id;
  long long version = 0;
  long long seq = 0;                  // the entry's position; the paging cursor
  std::optional<std::string> client;  // client address
  std::optional<std::string> request_id;
  std::optional<std::string> changes;  // JSON array (see AuditChanges in resource_writer.h)
};

struct AuditQuery {
  std::optional<std::string> tenant;  // nullopt: every tenant (the operator)
  std::optional<std::string> since;   // canonical timestamp; entries at or after it
  std::optional<std::string> until;   // canonical timestamp; entries before it
  std::optional<std::string> resource_id;
  std::optional<std::string> actor;
  std::optional<std::string> action;
  std::optional<long long> before_seq;  // the cursor: entries older than this one
  int limit = 1000;
  bool newest_first = false;
};

// Entries matching `query`: in commit order, oldest first, or newest first when asked; at most
// `limit` (clamped to 1..1000).
Result<std::vector<AuditEntry>> ReadAuditLog(Database& db, const AuditQuery& query);

// An entry for an action that is not a resource write.
struct AuditRecord {
  std::string tenant;
  std::string actor;
  std::string client;
  std::string request_id;
  std::string action;
  std::string resource_type;  // "Token", "Tenant", "Delivery", ...
  std::string resource_id;
  long long version = 0;
  std::string changes;  // JSON array, or empty
};

Status RecordAudit(Database& db, const AuditRecord& record);

// `POST /admin/v1/sync/resources/{id}`, `scimd sync resource`: records an outbox event
// ("replaced") carrying the resource's current state (a Group with its whole member list), for
// every target or only `target`, and its audit entry (action "sync"), in one transaction. The
// dispatchers deliver it like any change. With `tenant` the resource must be that tenant's;
// without (the operator), it is looked up in every tenant (kConflict when several have that id).
// kNotFound when there is no such resource.
struct ManualSync {
  std::string tenant;
  std::string resource_type;
  std::string resource_id;
  long long version = 0;
};
Result<ManualSync> RecordManualSync(Database& db, const std::optional<std::string>& tenant,
                                    const std::string& id, const std::optional<std::string>& target,
                                    const AuditRecord& who);

}  // namespace scim::store
