#pragma once
// The optional capability behind `scimd sync reconcile --target NAME`: an adapter that can tell
// what its target holds, so the links scimd keeps (target_links) can be compared with it. The
// adapter still knows only its target's API; the comparison and the repairs (which go through
// TargetAdapter::Deliver) are src/delivery/reconcile.cc's job.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scim/common/result.h"
#include "scim/events/change_event.h"

namespace scim::events {

// A record the target holds, as reconciliation sees it.
struct RemoteRecord {
  std::string resource_type;  // "User" | "Group": what scimd would map to it
  std::string target_id;      // the target's id (what target_links.external_id holds)
  // The SCIM id the record carries (Dolibarr `ref_ext`, CRM `externalIds.scim`); empty when it
  // carries none (Zoho Books has nowhere to keep it). Only a record carrying a SCIM id that
  // scimd issued can be proven to be scimd's.
  std::string scim_id;
  // The natural key the adapter also matches on when creating (lower-cased e-mail); empty when
  // none.
  std::string natural_key;
};

// A resource scimd expects at the target, given to Inventory() so that targets whose API cannot
// list everything can look each one up instead.
struct RemoteProbe {
  std::string resource_type;
  std::string resource_id;               // the SCIM id
  std::optional<std::string> target_id;  // the linked id, when linked
};

// What Inventory() found.
struct RemoteInventory {
  std::vector<RemoteRecord> records;
  // True when `records` is everything the target holds of the kinds the adapter manages (a full
  // listing). False when only the probes were looked up: then records not carrying a link
  // cannot be searched for orphans.
  bool complete = true;
  // Linked ids the adapter has no way to check (e.g. CRM stores: no read endpoint); they count
  // as present.
  std::set<std::string> unchecked;
};

// Whether the target should hold a record for a resource in its current state, and under which
// natural key.
struct Expectation {
  bool should_exist = false;
  std::string natural_key;  // lower-cased e-mail, or empty
};

// Implemented by adapters whose target can be reconciled (TargetAdapter::AsReconcilable()).
class Reconcilable {
 public:
  virtual ~Reconcilable() = default;

  // `current` is a synthetic event carrying the resource's current state (the outbox payload
  // layout of change_event.h, members as a replaced delta). Cheap; does not call the target.
  virtual Expectation Expect(const ChangeEvent& current) const = 0;

  // The records the target holds of the kinds this adapter manages (paging through the target's
  // list endpoint), or, for a target without one, those found by looking up `probes`.
  // kUnavailable when the target cannot be read; nothing is changed at the target.
  virtual Result<RemoteInventory> Inventory(const std::vector<RemoteProbe>& probes) = 0;
};

}  // namespace scim::events
