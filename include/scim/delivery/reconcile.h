#pragma once
// `scimd sync reconcile --target NAME [--dry-run]`: compares the links scimd keeps for one
// target (target_links) with what the target holds, and repairs the differences through the
// adapter's own Deliver(), so the target sees nothing a normal delivery would not send:
//
// - missing:  a linked record is gone at the target → the link is dropped and the resource's
//             current state is delivered again (when the target should hold it), which records
//             the new link;
// - unlinked: a resource the target should hold has no link → a record carrying its SCIM id (or,
//             failing that, its natural key such as the e-mail, on a record carrying no SCIM id)
//             is relinked and updated; with none, the current state is delivered (created);
// - orphaned: a record scimd provably created for a resource that no longer exists — it is
//             linked to that resource, or (full listings only) it carries a SCIM id that scimd's
//             audit log shows deleted — is deleted at the target (a "deleted" event).
// Records scimd cannot prove it created (no link, no SCIM id of scimd's) are never deleted, and a
// second record carrying the SCIM id of a linked resource (a duplicate) is only reported.
// Resources with deliveries still outstanding at the target (pending, in flight, failed and
// holding later changes back, or not yet fanned out) are skipped: the dispatcher owns them.
// With dry_run nothing is changed at the target or in the database; the findings are reported.

#include <cstdint>
#include <string>
#include <vector>

#include "scim/common/result.h"
#include "scim/events/target_adapter.h"
#include "scim/store/database.h"

namespace scim::delivery {

struct ReconcileOptions {
  bool dry_run = false;
};

// What one run found and did. Each finding also adds a line to `lines`.
struct ReconcileReport {
  int64_t checked = 0;   // links and expected resources compared
  int64_t missing = 0;   // linked records gone at the target
  int64_t unlinked = 0;  // expected resources without link nor matching record
  int64_t relinked = 0;  // unlinked resources matched to a record the target holds
  int64_t orphaned = 0;  // records of resources that no longer exist (deleted at the target)
  int64_t repaired = 0;  // resources delivered again that the target now holds
  int64_t skipped = 0;   // resources left to the dispatcher (deliveries outstanding)
  int64_t kept = 0;      // records left alone: duplicates, and linked resources not handled now
  int64_t errors = 0;    // failed repairs (the target refused or was unreachable)
  std::vector<std::string> lines;
};

// Reconciles `adapter`'s target. kInvalidValue when the adapter is not reconcilable (webhook);
// kUnavailable when the target cannot be listed; database errors as Error. Failed repairs are
// counted in `errors`, not returned as an Error.
Result<ReconcileReport> Reconcile(store::Database& db, events::TargetAdapter& adapter,
                                  const ReconcileOptions& options);

// The report for the command line: one line per finding, then
// "<target>: checked N, missing N, unlinked N, relinked N, orphaned N, repaired N, skipped N,
// kept N, errors N" (prefixed "dry run: " with dry_run).
std::string ReconcileReportText(const std::string& target, const ReconcileReport& report,
                                bool dry_run);

}  // namespace scim::delivery
