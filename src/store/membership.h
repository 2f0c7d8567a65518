#pragma once
// Group membership rows (table group_members): one row per member, changed row by row.

#include <soci/soci.h>

#include <map>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/store/resource_store.h"

namespace scim::store {

// What actually changed, for the outbox event: the rows added and removed, and when the whole
// list was replaced (PUT, replace without filter) also every member after the change, so that a
// target can set its list from the event alone.
struct MembershipDelta {
  bool replaced = false;
  std::vector<Member> added;
  std::vector<Member> removed;
  std::vector<Member> all;  // only when `replaced`
  bool empty() const { return added.empty() && removed.empty(); }
};

// Applies `change` to the members of `group_id`. Members must exist in the tenant (kInvalidValue
// naming the missing id otherwise); a group cannot contain itself.
Result<MembershipDelta> ApplyMembership(soci::session& s, const std::string& tenant,
                                        const std::string& group_id,
                                        const MembershipChange& change);

// Bumps a resource's version and lastModified (its `groups` or `members` changed indirectly).
void TouchResource(soci::session& s, const std::string& tenant, const std::string& id,
                   const std::string& now);

// The groups `member_id` belongs to directly.
std::vector<std::string> GroupsContaining(soci::session& s, const std::string& tenant,
                                          const std::string& member_id);

// Deletes every row where `id` is the group or the member.
void DeleteMembershipsOf(soci::session& s, const std::string& tenant, const std::string& id);

// Group.members: [{"value", "type", "display"}], ordered by member id.
void ReadMembers(soci::session& s, const std::string& tenant, const std::string& group_id,
                 json::Value& out, json::Allocator& alloc);

// A group a member belongs to directly, as User.groups shows it.
struct GroupRef {
  std::string id;
  std::string display;
};

// The direct groups of each of `member_ids`, each list ordered by group id, in one query.
// Members without groups are absent from the map.
std::map<std::string, std::vector<GroupRef>> ReadGroupsOf(
    soci::session& s, const std::string& tenant, const std::vector<std::string>& member_ids);

// User.groups: [{"value", "display", "type": "direct"}] (RFC 7643 §4.1.2) of `groups`.
void GroupsToJson(const std::vector<GroupRef>& groups, json::Value& out, json::Allocator& alloc);

// All member rows of a group.
std::vector<Member> LoadMemberRows(soci::session& s, const std::string& tenant,
                                   const std::string& group_id);

}  // namespace scim::store
