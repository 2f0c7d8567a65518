#include "scim/events/change_event.h"

namespace scim::events {

const char* ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kCreated: return "created";
    case ChangeKind::kReplaced: return "replaced";
    case ChangeKind::kPatched: return "patched";
    case ChangeKind::kDeleted: return "deleted";
  }
  return "created";
}

bool ParseChangeKind(std::string_view name, ChangeKind& out) {
  for (ChangeKind k : {ChangeKind::kCreated, ChangeKind::kReplaced, ChangeKind::kPatched,
                       ChangeKind::kDeleted}) {
    if (name == ChangeKindName(k)) {
      out = k;
      return true;
    }
  }
  return false;
}

}  // namespace scim::events
