#include "store/change_record.h"

#include <algorithm>

#include "scim/common/clock.h"
#include "store/change_buffer.h"
#include "store/membership.h"

namespace scim::store {
namespace {

constexpr const char* kScimdUser = "urn:scimd:params:scim:schemas:extension:2.0:User";

// A User member's role in an organization (MemberRoleOf), read from its row.
std::string MemberRole(soci::session& s, const std::string& tenant, const Member& member) {
  if (member.type != "User") return "member";
  std::string data;
  s << "SELECT data FROM resources WHERE tenant = :t AND id = :id", soci::use(tenant, "t"),
      soci::use(member.id, "id"), soci::into(data);
  json::Document doc;
  if (!s.got_data() || !json::Parse(data, doc).ok()) return "member";
  return MemberRoleOf(doc);
}

// The systems of the scimd User extension's externalIds (the URN's key is matched
// case-insensitively, RFC 7643 §3.3; systems are caseExact).
std::vector<std::string> ExtensionSystems(const json::Value& user) {
  std::vector<std::string> out;
  const json::Value* ext = user.IsObject() ? json::FindMemberCI(user, kScimdUser) : nullptr;
  if (ext == nullptr || !ext->IsObject()) return out;
  const json::Value* ids = json::FindMemberCI(*ext, "externalIds");
  if (ids == nullptr || !ids->IsArray()) return out;
  for (const json::Value& item : ids->GetArray()) {
    if (!item.IsObject()) continue;
    const json::Value* system = json::FindMemberCI(item, "system");
    if (system != nullptr && system->IsString()) out.emplace_back(json::View(*system));
  }
  return out;
}

json::Value MemberList(soci::session& s, const std::string& tenant,
                       const std::vector<Member>& members, bool with_role, json::Allocator& alloc) {
  json::Value list(rapidjson::kArrayType);
  for (const Member& m : members) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("value", json::String(m.id, alloc), alloc);
    if (!m.type.empty()) item.AddMember("type", json::String(m.type, alloc), alloc);
    if (with_role) item.AddMember("role", json::String(MemberRole(s, tenant, m), alloc), alloc);
    list.PushBack(item, alloc);
  }
  return list;
}

std::string BuildPayload(soci::session& s, const std::string& tenant, const json::Value* resource,
                         const MembershipDelta* members, const std::string& request_id,
                         const UserChange& user_change = {}) {
  json::Document payload(rapidjson::kObjectType);
  auto& alloc = payload.GetAllocator();
  if (resource != nullptr) payload.AddMember("resource", json::Value(*resource, alloc), alloc);
  if (user_change.active_before) {
    payload.AddMember("active_before", *user_change.active_before, alloc);
  }
  if (!user_change.external_ids_removed.empty()) {
    json::Value list(rapidjson::kArrayType);
    for (const std::string& system : user_change.external_ids_removed) {
      list.PushBack(json::String(system, alloc), alloc);
    }
    payload.AddMember("external_ids_removed", list, alloc);
  }
  if (user_change.role_before && resource != nullptr && resource->IsObject() &&
      resource->HasMember("id") && (*resource)["id"].IsString()) {
    // The user's direct groups now: the adapters put the new role in those that are
    // organizations at their target.
    std::string id(json::View((*resource)["id"]));
    json::Value change(rapidjson::kObjectType);
    change.AddMember("role", json::String(MemberRoleOf(*resource), alloc), alloc);
    change.AddMember("before", json::String(*user_change.role_before, alloc), alloc);
    json::Value groups(rapidjson::kArrayType);
    for (const auto& [member, refs] : ReadGroupsOf(s, tenant, {id})) {
      for (const GroupRef& g : refs) groups.PushBack(json::String(g.id, alloc), alloc);
    }
    change.AddMember("groups", groups, alloc);
    payload.AddMember("role_change", change, alloc);
  }
  if (!request_id.empty()) payload.AddMember("request_id", json::String(request_id, alloc), alloc);
  if (members != nullptr && (!members->empty() || members->replaced)) {
    json::Value delta(rapidjson::kObjectType);
    // events::ChangeEvent's contract: with "replaced", "added" lists every member.
    const std::vector<Member>& added = members->replaced ? members->all : members->added;
    delta.AddMember("added", MemberList(s, tenant, added, true, alloc), alloc);
    delta.AddMember("removed", MemberList(s, tenant, members->removed, false, alloc), alloc);
    delta.AddMember("replaced", members->replaced, alloc);
    payload.AddMember("members", delta, alloc);
  }
  return json::Serialize(payload);
}

const char* AuditAction(events::ChangeKind kind) {
  switch (kind) {
    case events::ChangeKind::kCreated:
      return "create";
    case events::ChangeKind::kReplaced:
      return "replace";
    case events::ChangeKind::kPatched:
      return "patch";
    case events::ChangeKind::kDeleted:
      return "delete";
  }
  return "unknown";
}

}  // namespace

void InsertAuditRow(soci::session& s, const AuditWho& who, const std::string& action,
                    const std::string& resource_type, const std::string& id, long long version,
                    const std::string& changes) {
  AuditRow row{who.tenant, NowTimestamp(), who.actor,  action,         resource_type,
               id,         version,        who.client, who.request_id, changes};
  if (ChangeBuffer* buffer = ChangeBuffer::For(s)) return buffer->Add(std::move(row));
  Dialect dialect = s.get_backend_name() == "postgresql" ? Dialect::kPostgres : Dialect::kSqlite;
  InsertAuditRows(s, dialect, {row});
}

std::string MemberRoleOf(const json::Value& user) {
  auto roles = user.IsObject() ? user.FindMember("roles") : user.MemberEnd();
  if (!user.IsObject() || roles == user.MemberEnd() || !roles->value.IsArray() ||
      roles->value.Empty()) {
    return "member";
  }
  const json::Value* chosen = &roles->value[0];
  for (const auto& role : roles->value.GetArray()) {
    if (!role.IsObject()) continue;
    auto primary = role.FindMember("primary");
    if (primary != role.MemberEnd() && primary->value.IsBool() && primary->value.GetBool()) {
      chosen = &role;
      break;
    }
  }
  if (!chosen->IsObject()) return "member";
  auto value = chosen->FindMember("value");
  if (value == chosen->MemberEnd() || !value->value.IsString()) return "member";
  return std::string(json::View(value->value));
}

UserChange UserChangeFacts(const json::Value& before, const json::Value& after) {
  UserChange change;
  std::vector<std::string> now = ExtensionSystems(after);
  for (const std::string& system : ExtensionSystems(before)) {
    if (std::find(now.begin(), now.end(), system) == now.end() &&
        std::find(change.external_ids_removed.begin(), change.external_ids_removed.end(), system) ==
            change.external_ids_removed.end()) {
      change.external_ids_removed.push_back(system);
    }
  }
  std::string role_before = MemberRoleOf(before);
  if (role_before != MemberRoleOf(after)) change.role_before = role_before;
  return change;
}

void RecordChange(soci::session& s, const AuditWho& who, const std::string& resource_type,
                  const std::string& id, events::ChangeKind kind, long long version,
                  const json::Value* resource, const MembershipDelta* members,
                  const std::string& changes, const UserChange& user_change) {
  const std::string& tenant = who.tenant;
  std::string payload = BuildPayload(s, tenant, resource, members, who.request_id, user_change);
  std::string now = NowTimestamp();
  std::string event = events::ChangeKindName(kind);
  // The audit row first: on PostgreSQL that write gives the transaction its xid before the
  // outbox seq is drawn, which the delivery fan-out's settle rule relies on (FanOut).
  // Inside a /Bulk transaction both rows wait in its ChangeBuffer, in this order.
  InsertAuditRow(s, who, AuditAction(kind), resource_type, id, version, changes);
  OutboxRow row{tenant, resource_type, id, event, version, std::move(payload), std::move(now)};
  if (ChangeBuffer* buffer = ChangeBuffer::For(s)) return buffer->Add(std::move(row));
  Dialect dialect = s.get_backend_name() == "postgresql" ? Dialect::kPostgres : Dialect::kSqlite;
  InsertOutboxRows(s, dialect, {row});
}

std::string OutboxPayload(soci::session& s, const std::string& tenant, const json::Value* resource,
                          const MembershipDelta* members) {
  return BuildPayload(s, tenant, resource, members, "");
}

}  // namespace scim::store
