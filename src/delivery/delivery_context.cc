#include "delivery/delivery_context.h"

#include <soci/soci.h>

namespace scim::delivery {
namespace {

// One round trip: the resource's links at every target, and every known target (a cursor row)
// with a NULL id where it has no link.
void ReadLinks(soci::session& s, const std::string& target, const events::ChangeEvent& event,
               events::DeliveryContext& context) {
  std::string name, external_id;
  soci::indicator id_ind = soci::i_null;
  soci::statement select =
      (s.prepare << "SELECT target, external_id FROM target_links WHERE tenant = :tn AND "
                    "resource_id = :rid UNION ALL SELECT c.target, NULL FROM target_cursors c "
                    "WHERE NOT EXISTS (SELECT 1 FROM target_links l WHERE l.target = c.target "
                    "AND l.tenant = :tn2 AND l.resource_id = :rid2)",
       soci::use(event.tenant), soci::use(event.resource_id), soci::use(event.tenant),
       soci::use(event.resource_id), soci::into(name), soci::into(external_id, id_ind));
  select.execute();
  while (select.fetch()) {
    if (id_ind == soci::i_ok) {
      context.linked_ids[name] = external_id;
    } else if (name != target) {
      context.unlinked_targets.insert(name);
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
