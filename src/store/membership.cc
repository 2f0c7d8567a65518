#include "store/membership.h"

#include <set>
#include <unordered_set>

#include "scim/common/clock.h"
#include "store/bound_sql.h"

namespace scim::store {
namespace {

// The resource type of an existing resource, or "" when it does not exist.
std::string ResourceTypeOf(soci::session& s, const std::string& tenant, const std::string& id) {
  std::string type;
  s << "SELECT resource_type FROM resources WHERE tenant = :t AND id = :id", soci::use(tenant, "t"),
      soci::use(id, "id"), soci::into(type);
  return s.got_data() ? type : std::string();
}

bool DeleteRow(soci::session& s, const std::string& tenant, const std::string& group_id,
               const std::string& member_id) {
  soci::statement st =
      (s.prepare << "DELETE FROM group_members WHERE tenant = :t AND "
                    "group_id = :g AND member_id = :m",
       soci::use(tenant, "t"), soci::use(group_id, "g"), soci::use(member_id, "m"));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

bool InsertRow(soci::session& s, const std::string& tenant, const std::string& group_id,
               const Member& member) {
  soci::statement st =
      (s.prepare << "INSERT INTO group_members (tenant, group_id, member_id, member_type) "
                    "VALUES (:t, :g, :m, :mt) ON CONFLICT DO NOTHING",
       soci::use(tenant, "t"), soci::use(group_id, "g"), soci::use(member.id, "m"),
       soci::use(member.type, "mt"));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

// Inserts the missing rows of `members` (recorded in delta.added); with `all`, every requested
// member (deduplicated, with its type) is appended there too.
Status AddMembers(soci::session& s, const std::string& tenant, const std::string& group_id,
                  const std::vector<Member>& members, MembershipDelta& delta,
                  std::vector<Member>* all = nullptr) {
  std::unordered_set<std::string> seen;
  for (const Member& requested : members) {
    if (!seen.insert(requested.id).second) continue;
    if (requested.id == group_id) {
      return Error(ErrorCode::kInvalidValue, "a group cannot be a member of itself");
    }
    std::string type = ResourceTypeOf(s, tenant, requested.id);
    if (type.empty()) {
      return Error(ErrorCode::kInvalidValue, "member '" + requested.id + "' does not exist");
    }
    Member member{requested.id, type};
    if (all != nullptr) all->push_back(member);
    if (InsertRow(s, tenant, group_id, member)) delta.added.push_back(member);
  }
  return OkStatus();
}

// PUT and replace: the new list is diffed against the stored one so that unchanged members keep
// their rows and the event carries only the difference.
Status ReplaceMembers(soci::session& s, const std::string& tenant, const std::string& group_id,
                      const std::vector<Member>& members, MembershipDelta& delta) {
  std::set<std::string> wanted;
  for (const Member& m : members) wanted.insert(m.id);
  for (const Member& existing : LoadMemberRows(s, tenant, group_id)) {
    if (wanted.count(existing.id) == 0 && DeleteRow(s, tenant, group_id, existing.id)) {
      delta.removed.push_back(existing);
    }
  }
  return AddMembers(s, tenant, group_id, members, delta, &delta.all);
}

}  // namespace

void TouchResource(soci::session& s, const std::string& tenant, const std::string& id,
                   const std::string& now) {
  s << "UPDATE resources SET version = version + 1, last_modified = :now WHERE tenant = :t AND "
       "id = :id",
      soci::use(now, "now"), soci::use(tenant, "t"), soci::use(id, "id");
}

std::vector<std::string> GroupsContaining(soci::session& s, const std::string& tenant,
                                          const std::string& member_id) {
  std::vector<std::string> groups;
  soci::rowset<std::string> rows =
      (s.prepare << "SELECT group_id FROM group_members WHERE tenant = :t AND member_id = :m "
                    "ORDER BY group_id",
       soci::use(tenant, "t"), soci::use(member_id, "m"));
  for (const std::string& g : rows) groups.push_back(g);
  return groups;
}

std::vector<Member> LoadMemberRows(soci::session& s, const std::string& tenant,
                                   const std::string& group_id) {
  std::vector<Member> members;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT member_id, member_type FROM group_members WHERE tenant = :t AND "
                    "group_id = :g ORDER BY member_id",
       soci::use(tenant, "t"), soci::use(group_id, "g"));
  for (const soci::row& r : rows) members.push_back({r.get<std::string>(0), r.get<std::string>(1)});
  return members;
}

// A member's `groups` changed with the membership: its version moves so that ETags stay honest.
void TouchMembers(soci::session& s, const std::string& tenant, const MembershipDelta& delta) {
  if (delta.empty()) return;
  std::string now = NowTimestamp();
  for (const Member& m : delta.added) TouchResource(s, tenant, m.id, now);
  for (const Member& m : delta.removed) TouchResource(s, tenant, m.id, now);
}

Result<MembershipDelta> ApplyMembership(soci::session& s, const std::string& tenant,
                                        const std::string& group_id,
                                        const MembershipChange& change) {
  MembershipDelta delta;
  delta.replaced = change.replace_all;
  if (change.replace_all) {
    SCIM_RETURN_IF_ERROR(ReplaceMembers(s, tenant, group_id, change.add, delta));
    TouchMembers(s, tenant, delta);
    return delta;
  }
  if (change.remove_all) {
    for (const Member& m : LoadMemberRows(s, tenant, group_id)) {
      if (DeleteRow(s, tenant, group_id, m.id)) delta.removed.push_back(m);
    }
  }
  for (const std::string& id : change.remove) {
    if (DeleteRow(s, tenant, group_id, id)) delta.removed.push_back({id, ""});
  }
  SCIM_RETURN_IF_ERROR(AddMembers(s, tenant, group_id, change.add, delta));
  TouchMembers(s, tenant, delta);
  return delta;
}

void DeleteMembershipsOf(soci::session& s, const std::string& tenant, const std::string& id) {
  s << "DELETE FROM group_members WHERE tenant = :t AND group_id = :id", soci::use(tenant, "t"),
      soci::use(id, "id");
  s << "DELETE FROM group_members WHERE tenant = :t AND member_id = :id", soci::use(tenant, "t"),
      soci::use(id, "id");
}

void ReadMembers(soci::session& s, const std::string& tenant, const std::string& group_id,
                 json::Value& out, json::Allocator& alloc) {
  out.SetArray();
  soci::rowset<soci::row> rows =
      (s.prepare
           << "SELECT m.member_id, m.member_type, COALESCE(r.display_name, r.user_name, '') "
              "FROM group_members m LEFT JOIN resources r ON r.tenant = m.tenant AND "
              "r.id = m.member_id WHERE m.tenant = :t AND m.group_id = :g ORDER BY m.member_id",
       soci::use(tenant, "t"), soci::use(group_id, "g"));
  for (const soci::row& r : rows) {
    json::Value member(rapidjson::kObjectType);
    member.AddMember("value", json::String(r.get<std::string>(0), alloc), alloc);
    member.AddMember("type", json::String(r.get<std::string>(1), alloc), alloc);
    std::string display = r.get<std::string>(2);
    if (!display.empty()) member.AddMember("display", json::String(display, alloc), alloc);
    out.PushBack(member, alloc);
  }
}

std::map<std::string, std::vector<GroupRef>> ReadGroupsOf(
    soci::session& s, const std::string& tenant, const std::vector<std::string>& member_ids) {
  std::map<std::string, std::vector<GroupRef>> groups;
  if (member_ids.empty()) return groups;
  std::map<std::string, std::string> params{{"t", tenant}};
  std::string in_list = InList(member_ids, "m", params);
  BoundSql sql(
      "SELECT m.member_id, m.group_id, COALESCE(g.display_name, '') FROM group_members m "
      "JOIN resources g ON g.tenant = m.tenant AND g.id = m.group_id "
      "WHERE m.tenant = :t AND m.member_id IN (" +
          in_list + ") ORDER BY m.member_id, m.group_id",
      params);
  soci::rowset<soci::row> rows(sql.Prepare(s));
  for (const soci::row& r : rows) {
    groups[r.get<std::string>(0)].push_back({r.get<std::string>(1), r.get<std::string>(2)});
  }
  return groups;
}

void GroupsToJson(const std::vector<GroupRef>& groups, json::Value& out, json::Allocator& alloc) {
  out.SetArray();
  for (const GroupRef& ref : groups) {
    json::Value group(rapidjson::kObjectType);
    group.AddMember("value", json::String(ref.id, alloc), alloc);
    if (!ref.display.empty()) group.AddMember("display", json::String(ref.display, alloc), alloc);
    group.AddMember("type", "direct", alloc);
    out.PushBack(group, alloc);
  }
}

}  // namespace scim::store
