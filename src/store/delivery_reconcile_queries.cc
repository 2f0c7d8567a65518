// DeliveryStore: the queries of reconciliation (scim/delivery/reconcile.h).
#include <soci/soci.h>

#include "scim/store/delivery_store.h"

namespace scim::store {

Result<std::vector<TargetLink>> DeliveryStore::LinksOfTarget(const std::string& target) {
  std::vector<TargetLink> links;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    links.clear();
    TargetLink row;
    soci::statement select =
        (s.prepare << "SELECT tenant, resource_type, resource_id, external_id FROM target_links "
                      "WHERE target = :t ORDER BY tenant, resource_id",
         soci::use(target), soci::into(row.tenant), soci::into(row.resource_type),
         soci::into(row.resource_id), soci::into(row.target_id));
    select.execute();
    while (select.fetch()) links.push_back(row);
    return OkStatus();
  }));
  return links;
}

Result<std::vector<ResourceKey>> DeliveryStore::ResourcesOfType(const std::string& type) {
  std::vector<ResourceKey> out;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    out.clear();
    std::string tenant, id;
    soci::statement select =
        (s.prepare << "SELECT tenant, id FROM resources WHERE resource_type = :rt "
                      "ORDER BY tenant, id",
         soci::use(type), soci::into(tenant), soci::into(id));
    select.execute();
    while (select.fetch()) out.push_back({tenant, id});
    return OkStatus();
  }));
  return out;
}

Result<std::set<ResourceKey>> DeliveryStore::OutstandingResources(const std::string& target) {
  std::set<ResourceKey> outstanding;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    outstanding.clear();
    std::string tenant, id;
    soci::statement deliveries =
        (s.prepare << "SELECT DISTINCT tenant, resource_id FROM deliveries WHERE target = :t AND "
                      "(status IN ('pending', 'in_flight') OR "
                      "(status = 'failed' AND blocks_resource = 1))",
         soci::use(target), soci::into(tenant), soci::into(id));
    deliveries.execute();
    while (deliveries.fetch()) outstanding.emplace(tenant, id);
    long long last_seq = 0;
    soci::indicator ind = soci::i_null;
    s << "SELECT last_seq FROM target_cursors WHERE target = :t", soci::use(target),
        soci::into(last_seq, ind);
    if (!s.got_data() || ind != soci::i_ok) last_seq = 0;
    soci::statement unscanned =
        (s.prepare << "SELECT DISTINCT o.tenant, o.resource_id FROM outbox o WHERE o.seq > :s "
                      "AND (o.only_target IS NULL OR o.only_target = :t) "
                      "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.target = :t2 "
                      "AND d.seq = o.seq)",
         soci::use(last_seq), soci::use(target), soci::use(target), soci::into(tenant),
         soci::into(id));
    unscanned.execute();
    while (unscanned.fetch()) outstanding.emplace(tenant, id);
    return OkStatus();
  }));
  return outstanding;
}

Result<bool> DeliveryStore::ResourceExists(const ResourceKey& key) {
  bool exists = false;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    int one = 0;
    s << "SELECT 1 FROM resources WHERE tenant = :tn AND id = :id", soci::use(key.first),
        soci::use(key.second), soci::into(one);
    exists = s.got_data();
    return OkStatus();
  }));
  return exists;
}

Result<std::optional<std::pair<std::string, std::string>>> DeliveryStore::DeletedResource(
    const std::string& id) {
  std::optional<std::pair<std::string, std::string>> found;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    std::vector<std::string> tenants;
    std::string tenant, type;
    soci::statement all =
        (s.prepare << "SELECT DISTINCT tenant FROM audit_log", soci::into(tenant));
    all.execute();
    while (all.fetch()) tenants.push_back(tenant);
    for (const std::string& t : tenants) {
      s << "SELECT resource_type FROM audit_log WHERE tenant = :tn AND resource_id = :id "
           "AND action = 'delete'",
          soci::use(t), soci::use(id), soci::into(type);
      if (s.got_data()) {
        found.emplace(t, type);
        break;
      }
    }
    return OkStatus();
  }));
  return found;
}

}  // namespace scim::store
