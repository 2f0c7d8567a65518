#pragma once
// Delivery status rows (scim/store/delivery_status.h) for the tests of their renderings: the
// admin JSON and /metrics (tests/http/sync_rendering_test.cc) and the `scimd sync status` table
// (tests/app/sync_text_test.cc).

#include <string>
#include <utility>

#include "scim/store/delivery_status.h"

namespace scim::testing {

// A target with work: 2 pending (1 of them in flight), 40 delivered, 1 failed, the oldest
// pending for 1.25 s, and `last_error`.
inline store::TargetStatus BusyTarget(std::string last_error) {
  store::TargetStatus t;
  t.name = "crm";
  t.type = "crm";
  t.pending = 2;
  t.in_flight = 1;
  t.delivered = 40;
  t.failed = 1;
  t.oldest_pending_seconds = 1.25;
  t.last_error = std::move(last_error);
  return t;
}

// A target that never had anything to deliver.
inline store::TargetStatus IdleTarget() {
  store::TargetStatus t;
  t.name = "events";
  t.type = "webhook";
  return t;
}

// The notice an adapter reports when the target lacks a field for `department`.
inline store::TargetNotice DepartmentNotice(std::string message) {
  return {"department", std::move(message), "2026-12-07T10:00:00.000Z", "2026-12-07T10:05:00.000Z"};
}

// `t` with its circuit breaker open since 10:00:00 and the next probe at `next_probe_at`.
inline store::TargetStatus Paused(store::TargetStatus t, std::string reason,
                                  std::string next_probe_at) {
  t.paused = true;
  t.paused_since = "2026-12-07T10:00:00.000Z";
  t.pause_reason = std::move(reason);
  t.next_probe_at = std::move(next_probe_at);
  return t;
}

}  // namespace scim::testing
