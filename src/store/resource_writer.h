#pragma once
// The row-level steps of a write, run inside one transaction: resource row, attr_values rows,
// membership, outbox event and audit entry.

#include <soci/soci.h>

#include <optional>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/events/change_event.h"
#include "scim/schema/registry.h"
#include "scim/store/database.h"
#include "store/membership.h"

namespace scim::store {

// A row of `resources` as read back.
struct StoredRow {
  std::string id;
  std::string data;
  std::string created;
  std::string last_modified;
  long long version = 0;
  // Read with the row (RowColumns, Users): the groups as a JSON array of [group id, displayName]
  // pairs (empty, or "[]", when none or not asked for) and the manager's current name.
  bool related = false;
  std::string groups_json = {};
  std::optional<std::string> manager_name = {};
};

// The select list of a one-row read: id, data, created, last_modified, version of `resources r`,
// and for Users the groups (`include_groups`, else NULL) of the resource bound as :t/:id and the
// manager's name as sub-queries, so a resource and what it shows come back in one statement (one
// round trip on PostgreSQL, issue 12).
std::string RowColumns(Dialect dialect, const std::string& resource_type, bool include_groups);

// Fills a StoredRow from a row selected with RowColumns.
StoredRow RowFrom(const soci::row& r);

// Reads one row with its related values (RowColumns); nullopt when absent. On PostgreSQL outside
// a transaction (`in_transaction` false) as a prepared statement kept per connection.
std::optional<StoredRow> ReadRowWithRelated(soci::session& s, Dialect dialect,
                                            const std::string& tenant,
                                            const std::string& resource_type, const std::string& id,
                                            bool include_groups, bool in_transaction);

// Reads one row; `for_update` takes the row lock on PostgreSQL. nullopt when absent.
std::optional<StoredRow> ReadRow(soci::session& s, Dialect dialect, const std::string& tenant,
                                 const std::string& resource_type, const std::string& id,
                                 bool for_update);

// Builds the SCIM resource from a row: schemas, id, attributes, meta (without location), and
// members/groups as asked.
json::Document AssembleResource(soci::session& s, const std::string& tenant,
                                const std::string& resource_type, const StoredRow& row,
                                bool include_members, bool include_groups);

// AssembleResource for a page of rows, in their order: User.groups and the managers' display
// names are read in one query each for the whole page (Group.members stay one query per group).
std::vector<json::Document> AssembleResources(soci::session& s, const std::string& tenant,
                                              const std::string& resource_type,
                                              const std::vector<StoredRow>& rows,
                                              bool include_members, bool include_groups);

// Inserts or updates the resource row and rewrites its attr_values rows; an insert adds 1 to the
// resource count (resource_counts.h).
void WriteResourceRows(soci::session& s, Dialect dialect, const schema::Registry& registry,
                       const schema::ResourceType& type, const std::string& tenant,
                       const StoredRow& row, const json::Value& resource,
                       const std::optional<std::string>& password_hash, bool insert);

// Deletes the resource row and its attr_values rows and takes 1 from the resource count.
void DeleteResourceRows(soci::session& s, Dialect dialect, const std::string& tenant,
                        const std::string& resource_type, const std::string& id);

// Fills the Enterprise manager.displayName from the referenced user, when it exists.
void FillManagerDisplayName(soci::session& s, const std::string& tenant, json::Value& resource,
                            json::Allocator& alloc);

// Who made a change, for the audit log.
struct AuditWho {
  std::string tenant;
  std::string actor;
  std::string client;
  std::string request_id;
};

// What a replace or patch of a User changed that the targets cannot see in the new state alone
// (payload fields, scim/events/change_event.h). UserChangeFacts() fills it.
struct UserChange {
  // `active` before the change when the change flipped it ("active_before").
  std::optional<bool> active_before;
  // Systems of the scimd User extension's externalIds present before and gone now
  // ("external_ids_removed"): the CRM sets them to null.
  std::vector<std::string> external_ids_removed;
  // The member role (MemberRoleOf) before, when it changed ("role_change": the new role, the old
  // one and the user's direct groups, whose organizations get the new role).
  std::optional<std::string> role_before;
};

// The member role of a User in an organization: its primary role, else its first, else
// "member" (product.md, Group extension).
std::string MemberRoleOf(const json::Value& user);

// The UserChange between two states of User `id`.
UserChange UserChangeFacts(const json::Value& before, const json::Value& after);

// Records the outbox event (payload layout in scim/events/change_event.h) and the audit entry,
// whose `changes` is the JSON array AuditChanges() made (empty: none recorded). `user_change`:
// for a replace or patch of a User.
void RecordChange(soci::session& s, const AuditWho& who, const std::string& resource_type,
                  const std::string& id, events::ChangeKind kind, long long version,
                  const json::Value* resource, const MembershipDelta* members,
                  const std::string& changes = "", const UserChange& user_change = {});

// The changed attributes between `before` (nullptr: created) and `after` (nullptr: deleted) as a
// JSON array of {"attribute", "old", "new"}; complex attributes and extensions are compared one
// level down ("name.givenName", "urn:...:User:department"); meta, id and password are never
// shown: a password change is {"attribute": "password", "changed": true}. Group membership
// changes are {"attribute": "members", "added": [ids], "removed": [ids]}.
std::string AuditChanges(const json::Value* before, const json::Value* after, bool password_changed,
                         const MembershipDelta* members);

// Inserts one audit_log row.
void InsertAuditRow(soci::session& s, const AuditWho& who, const std::string& action,
                    const std::string& resource_type, const std::string& id, long long version,
                    const std::string& changes);

// The outbox payload RecordChange() writes (layout in scim/events/change_event.h), for callers
// that need the same shape without recording a change (sync reconcile's current-state events).
std::string OutboxPayload(soci::session& s, const std::string& tenant, const json::Value* resource,
                          const MembershipDelta* members);

}  // namespace scim::store
