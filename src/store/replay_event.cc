#include "store/replay_event.h"

#include "scim/common/clock.h"
#include "scim/events/change_event.h"

namespace scim::store {

void InsertReplayEvent(soci::session& s, const std::string& tenant,
                       const std::string& resource_type, const std::string& resource_id,
                       long long version, const std::string& payload,
                       const std::optional<std::string>& only_target) {
  const std::string now = NowTimestamp();
  const std::string event = events::ChangeKindName(events::ChangeKind::kReplaced);
  const std::string only = only_target.value_or("");
  soci::indicator only_ind = only_target ? soci::i_ok : soci::i_null;
  s << "INSERT INTO outbox (tenant, resource_type, resource_id, event, version, payload, "
       "created, only_target) VALUES (:t, :rt, :id, :ev, :v, :p, :cr, :ot)",
      soci::use(tenant, "t"), soci::use(resource_type, "rt"), soci::use(resource_id, "id"),
      soci::use(event, "ev"), soci::use(version, "v"), soci::use(payload, "p"),
      soci::use(now, "cr"), soci::use(only, only_ind, "ot");
}

}  // namespace scim::store
