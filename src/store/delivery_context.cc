// DeliveryStore: the DeliveryContext of a Deliver() call (links of the resource, look-ups of
// other resources' links and member roles) and link writes outside an attempt.
#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "scim/common/clock.h"
#include "scim/common/json.h"
#include "scim/store/delivery_store.h"
#include "store/bound_sql.h"
#include "store/link_refresh.h"

namespace scim::store {
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

// The ids of the members a Group event adds (payload "members": {"added": [{"value"}]}): an
// organization delivery asks their links and roles, read up front in one query each instead of
// one per member (500 organizations of 200 members are 100,000 look-ups otherwise).
std::vector<std::string> AddedMembers(const events::ChangeEvent& event) {
  std::vector<std::string> ids;
  if (event.resource_type != "Group") return ids;
  json::Document doc;
  if (!json::Parse(event.payload, doc).ok() || !doc.IsObject()) return ids;
  auto members = doc.FindMember("members");
  if (members == doc.MemberEnd() || !members->value.IsObject()) return ids;
  auto added = members->value.FindMember("added");
  if (added == members->value.MemberEnd() || !added->value.IsArray()) return ids;
  for (const json::Value& m : added->value.GetArray()) {
    if (!m.IsObject()) continue;
    auto value = m.FindMember("value");
    if (value != m.MemberEnd() && value->value.IsString())
      ids.emplace_back(json::View(value->value));
  }
  return ids;
}

// `target`'s links of `ids` in one query per kInListChunk ids: resource id → external id.
std::map<std::string, std::string> LinksOf(soci::session& s, const std::string& target,
                                           const std::string& tenant,
                                           const std::vector<std::string>& ids) {
  std::map<std::string, std::string> links;
  ForEachInListChunk(ids, [&](const std::vector<std::string>& chunk) {
    std::map<std::string, std::string> params{{"t", target}, {"tn", tenant}};
    std::string list = InList(chunk, "r", params);
    BoundSql sql(
        "SELECT resource_id, external_id FROM target_links WHERE target = :t "
        "AND tenant = :tn AND resource_id IN (" +
            list + ")",
        std::move(params));
    std::string id, external_id;
    soci::statement select = (sql.Prepare(s), soci::into(id), soci::into(external_id));
    select.execute();
    while (select.fetch()) links[id] = external_id;
  });
  return links;
}

}  // namespace

Result<events::DeliveryContext> DeliveryStore::LoadContext(const std::string& target,
                                                           const events::ChangeEvent& event) {
  events::DeliveryContext context;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    ReadLinks(s, target, event, context);
    return OkStatus();
  }));
  // Prefetched for the members a Group event adds; other ids are looked up one by one.
  auto members = std::make_shared<std::set<std::string>>();
  auto member_links = std::make_shared<std::map<std::string, std::string>>();
  auto member_roles = std::make_shared<std::map<std::string, std::string>>();
  if (std::vector<std::string> added = AddedMembers(event); !added.empty()) {
    SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
      *member_links = LinksOf(s, target, event.tenant, added);
      *member_roles = CurrentMemberRoles(s, event.tenant, added);
      return OkStatus();
    }));
    members->insert(added.begin(), added.end());
  }
  if (auto it = context.linked_ids.find(target); it != context.linked_ids.end()) {
    context.target_id = it->second;
  }
  Database* handle = &db_;
  std::string tenant = event.tenant;
  context.lookup_target_id = [handle, target, tenant, members, member_links](
                                 const std::string& resource_id) -> std::optional<std::string> {
    if (members->contains(resource_id)) {
      auto it = member_links->find(resource_id);
      if (it == member_links->end()) return std::nullopt;
      return it->second;
    }
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
  context.current_member_role = [handle, tenant, members, member_roles](
                                    const std::string& user_id) -> std::optional<std::string> {
    if (members->contains(user_id)) {
      auto it = member_roles->find(user_id);
      if (it == member_roles->end()) return std::nullopt;  // gone
      return it->second;
    }
    return CurrentMemberRole(*handle, tenant, user_id);
  };
  return context;
}

Status DeliveryStore::SaveLink(const std::string& target, const events::ChangeEvent& event,
                               const std::string& target_id) {
  return db_.InTransaction([&](soci::session& s) -> Status {
    std::string now = NowTimestamp();
    s << "INSERT INTO target_links (target, tenant, resource_type, resource_id, external_id, "
         "updated) VALUES (:t, :tn, :rt, :rid, :x, :u) "
         "ON CONFLICT (target, tenant, resource_id) DO UPDATE SET "
         "external_id = excluded.external_id, resource_type = excluded.resource_type, "
         "updated = excluded.updated",
        soci::use(target), soci::use(event.tenant), soci::use(event.resource_type),
        soci::use(event.resource_id), soci::use(target_id), soci::use(now);
    return OkStatus();
  });
}

Status DeliveryStore::DropLink(const std::string& target, const ResourceKey& key) {
  return db_.InTransaction([&](soci::session& s) -> Status {
    s << "DELETE FROM target_links WHERE target = :t AND tenant = :tn AND resource_id = :rid",
        soci::use(target), soci::use(key.first), soci::use(key.second);
    return OkStatus();
  });
}

}  // namespace scim::store
