#pragma once
// Retention (config `retention: {delivered_days, audit_days}`): old delivered outbox events and
// old audit rows are deleted in small batches, each its own short transaction, so writers are
// never held up for long. Tenant-agnostic.

#include <cstdint>
#include <string>

#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store {

struct PruneCounts {
  int64_t outbox = 0;      // outbox events deleted
  int64_t deliveries = 0;  // their deliveries rows (all delivered) deleted with them
  int64_t audit = 0;       // audit_log rows deleted
  bool more = false;       // a batch was full: there may be more to delete right away
};

// One batch of each kind. Outbox: at most `batch` events created before `delivered_before`
// (a timestamp as NowTimestamp writes it; empty: none) that every target has fanned out
// (seq <= each target_cursors.last_seq) and that have no deliveries row other than
// 'delivered'; the newest event of each resource is kept (re-queues and re-deliveries read it).
// Audit: at most `batch` rows with time before `audit_before` (empty: none).
Result<PruneCounts> PruneOnce(Database& db, const std::string& delivered_before,
                              const std::string& audit_before, int batch);

}  // namespace scim::store
