#include "app/sync_text.h"

#include <cstdio>

namespace scim::app {
namespace {

std::string FormatSeconds(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  return buf;
}

}  // namespace

std::string SyncStatusText(const std::vector<store::TargetStatus>& targets) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-16s %-12s %8s %9s %8s %10s %7s %14s  %s\n", "TARGET", "TYPE",
                "PENDING", "IN_FLIGHT", "BLOCKED", "DELIVERED", "FAILED", "OLDEST_PENDING",
                "LAST_ERROR");
  out += line;
  for (const store::TargetStatus& t : targets) {
    std::string age = FormatSeconds(t.oldest_pending_seconds) + "s";
    std::string error = t.last_error.value_or("-");
    if (auto nl = error.find('\n'); nl != std::string::npos) error.resize(nl);
    std::snprintf(line, sizeof line, "%-16s %-12s %8lld %9lld %8lld %10lld %7lld %14s  ",
                  t.name.c_str(), t.type.c_str(), static_cast<long long>(t.pending),
                  static_cast<long long>(t.in_flight), static_cast<long long>(t.blocked),
                  static_cast<long long>(t.delivered), static_cast<long long>(t.failed),
                  age.c_str());
    out += line + error + "\n";
    if (t.paused) {
      // The circuit breaker (issue 12): one more line under the target's row.
      out += "  paused since " + t.paused_since.value_or("?") + ", next probe " +
             t.next_probe_at.value_or("?") + ": " + t.pause_reason.value_or("-") + "\n";
    }
  }
  if (targets.empty()) out += "(no delivery targets)\n";
  // Standing conditions reported by the adapters (deliveries go on despite them).
  for (const store::TargetStatus& t : targets) {
    for (const store::TargetNotice& n : t.notices) {
      out += "notice " + t.name + ": " + n.topic + ": " + n.message + " (since " + n.since + ")\n";
    }
  }
  return out;
}

}  // namespace scim::app
