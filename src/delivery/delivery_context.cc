#include "delivery/delivery_context.h"

#include <soci/soci.h>

namespace scim::delivery {
namespace {

void ReadLinks(soci::session& s, const std::string& target, const events::ChangeEvent& event,
               events::DeliveryContext& context) {
  std::string link_target, external_id;
  soci::statement select = (s.prepare << "SELECT target, external_id FROM target_links "
                                         "WHERE tenant = :tn AND resource_id = :rid",
                            soci::use(event.tenant), soci::use(event.resource_id),
                            soci::into(link_target), soci::into(external_id));
  select.execute();
  while (select.fetch()) context.linked_ids[link_target] = external_id;
  std::string known;
  soci::statement targets = (s.prepare << "SELECT target FROM target_cursors", soci::into(known));
  targets.execute();
  while (targets.fetch()) {
    if (known != target && !context.linked_ids.contains(known)) {
      context.unlinked_targets.insert(known);
    }
  }
}

}  // namespace

Result<events::DeliveryContext> LoadDeliveryContext(store::Database& db, const std::string& target,
                                                    const events::ChangeEvent& event) {
  events::DeliveryContext context;
  Status st = db.WithSession([&](soci::session& s) -> Status {
    ReadLinks(s, target, event, context);
    return OkStatus();
  });
  if (!st.ok()) return st.error();
  if (auto it = context.linked_ids.find(target); it != context.linked_ids.end()) {
    context.target_id = it->second;
  }
  store::Database* handle = &db;
  std::string tenant = event.tenant;
  context.lookup_target_id =
      [handle, target, tenant](const std::string& resource_id) -> std::optional<std::string> {
    std::optional<std::string> found;
    Status lookup = handle->WithSession([&](soci::session& s) -> Status {
      std::string external_id;
      s << "SELECT external_id FROM target_links WHERE target = :t AND tenant = :tn "
           "AND resource_id = :rid",
          soci::use(target), soci::use(tenant), soci::use(resource_id), soci::into(external_id);
      if (s.got_data()) found = external_id;
      return OkStatus();
    });
    if (!lookup.ok()) return std::nullopt;
    return found;
  };
  return context;
}

}  // namespace scim::delivery
