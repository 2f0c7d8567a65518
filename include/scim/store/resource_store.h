#pragma once
// Persistence of SCIM Users and Groups. Every write runs in one transaction that also records the
// outbox event (events::ChangeEvent) and the audit entry, so an acknowledged write and its event
// are durable together. Filters arrive as bound ASTs and run in the database. Knows nothing of
// HTTP. Thread-safe: each call leases its own session from the Database pool.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/events/change_event.h"
#include "scim/filter/bind.h"
#include "scim/schema/registry.h"
#include "scim/store/database.h"

namespace scim::store {

// A member of a group as stored: the member's id and its resource type ("User" | "Group").
struct Member {
  std::string id;
  std::string type;
};

// Membership changes applied row by row: a PATCH that adds one member to a group of 100,000
// touches one row.
struct MembershipChange {
  bool replace_all = false;         // `add` becomes the complete member list (PUT, replace)
  bool remove_all = false;          // every member removed first
  std::vector<Member> add;          // type may be empty: the store looks it up
  std::vector<std::string> remove;  // member ids
  bool empty() const { return !replace_all && !remove_all && add.empty() && remove.empty(); }
};

// What to assemble when reading: loading members of large groups is skipped when not wanted.
struct ReadOptions {
  bool include_members = true;  // Group.members
  bool include_groups = true;   // User.groups
};

struct WriteContext {
  std::string tenant;
  std::string actor;            // token name, for the audit log
  std::string client = {};      // client address, for the audit log
  std::string request_id = {};  // request id, for the audit log
};

// Called inside the write transaction with the stored resource (without members), under the
// row's write lock. It edits `resource` in place (or replaces it), fills `members`, and sets
// `password_hash` when the password changes. Returning an error rolls the whole write back.
using Mutator = std::function<Status(json::Document& resource, MembershipChange& members,
                                     std::optional<std::string>& password_hash)>;

struct ListQuery {
  std::optional<filter::BoundFilter> filter;
  std::optional<schema::ResolvedPath> sort_by;
  bool descending = false;
  int64_t start_index = 1;            // 1-based (RFC 7644 §3.4.2.4)
  int64_t count = 100;                // 0: totals only
  std::optional<std::string> cursor;  // RFC 9865: "" asks for the first page
  ReadOptions read;
};

struct ListPage {
  int64_t total_results = 0;
  std::vector<json::Document> resources;
  std::optional<std::string> next_cursor;
};

class ResourceStore {
 public:
  ResourceStore(std::shared_ptr<Database> db, std::shared_ptr<const schema::Registry> registry);

  // The full resource (id, schemas, attributes, meta without location, members/groups as asked).
  // kNotFound when absent.
  Result<json::Document> Get(const std::string& tenant, const std::string& resource_type,
                             const std::string& id, const ReadOptions& read) const;

  // Stores a new resource. `resource` is normalized (schema::NormalizeResource) and has no id,
  // meta, members or password. The id is generated. kUniqueness on a duplicate userName;
  // kInvalidValue when a member does not exist. Returns the stored resource (with members).
  Result<json::Document> Create(const WriteContext& ctx, const std::string& resource_type,
                                json::Document resource, const MembershipChange& members,
                                const std::optional<std::string>& password_hash);

  // Changes a resource through `mutate` in one transaction. `expected_version` (If-Match) gives
  // kPreconditionFailed when it is not the current version. Returns the resource after the
  // change, read with `read`.
  Result<json::Document> Modify(const WriteContext& ctx, const std::string& resource_type,
                                const std::string& id, std::optional<int64_t> expected_version,
                                events::ChangeKind kind, const Mutator& mutate,
                                const ReadOptions& read);

  // Deletes a resource, its memberships (as group and as member) and records the event.
  Status Delete(const WriteContext& ctx, const std::string& resource_type, const std::string& id,
                std::optional<int64_t> expected_version);

  // One page of a filtered, sorted listing, computed by the database.
  Result<ListPage> List(const std::string& tenant, const std::string& resource_type,
                        const ListQuery& query) const;

  // Every member of a group (used by PATCH filters other than `value eq`).
  Result<std::vector<Member>> LoadMembers(const std::string& tenant,
                                          const std::string& group_id) const;

  // Runs `work` in one database transaction: the writes it makes through this store (and any
  // store on the same Database) commit together when it returns ok, or not at all. Each write
  // inside still fails on its own (a savepoint), so `work` may go on after one fails. Nested
  // calls nest as savepoints. Reads inside see the uncommitted writes.
  // `savepoints` false (a batch expected to succeed, /Bulk): the writes inside take no
  // savepoint (on PostgreSQL two round trips fewer each), so the first that fails dooms the
  // transaction: it rolls back and returns that failure whatever `work` returns; the caller runs
  // the batch again with savepoints to learn which writes fail. Ignored when nested.
  Status InOneTransaction(const std::function<Status()>& work, bool savepoints = true);

  // The stored password hash of a user, if any.
  Result<std::optional<std::string>> PasswordHash(const std::string& tenant,
                                                  const std::string& id) const;

 private:
  std::shared_ptr<Database> db_;
  std::shared_ptr<const schema::Registry> registry_;
};

// meta.version as sent on the wire: W/"<n>" (RFC 7644 §3.14).
std::string FormatVersion(int64_t version);
// Parses W/"<n>", "<n>" or <n>; nullopt when it is not one of ours.
std::optional<int64_t> ParseVersion(std::string_view etag);

}  // namespace scim::store
