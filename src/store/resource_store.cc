#include "scim/store/resource_store.h"

#include "scim/common/clock.h"
#include "store/all_or_nothing.h"
#include "store/change_buffer.h"
#include "store/membership.h"
#include "store/resource_rows.h"
#include "store/resource_writer.h"
#include "store/sql_util.h"
#include "store/sqlite_statement_cache.h"

namespace scim::store {
namespace {

// A User's `active` as the targets read it: absent (or not a boolean) counts as active
// (adapters/common's Active()).
bool ActiveOf(const json::Value& resource) {
  const json::Value* active = json::FindMemberCI(resource, "active");
  return !(active != nullptr && active->IsBool() && !active->GetBool());
}

Error NotFound(const std::string& type, const std::string& id) {
  return Error(ErrorCode::kNotFound, type + " '" + id + "' not found");
}

Status CheckVersion(const StoredRow& row, std::optional<int64_t> expected) {
  if (expected && *expected != row.version) {
    return Error(ErrorCode::kPreconditionFailed, "version " + FormatVersion(*expected) +
                                                     " is not the current version " +
                                                     FormatVersion(row.version));
  }
  return OkStatus();
}

// The resource as the outbox records it: no members (they travel as a delta), no groups.
json::Document EventSnapshot(soci::session& s, const std::string& tenant, const std::string& type,
                             const StoredRow& row) {
  return AssembleResource(s, tenant, type, row, false, false);
}

// Whether `resource` would be stored exactly as `row` already is (JSON equality: PostgreSQL
// returns JSONB text with its own key order and spacing).
bool SameStoredData(const StoredRow& row, const json::Value& resource) {
  json::Document stored, updated;
  if (!json::Parse(row.data, stored).ok()) return false;
  if (!json::Parse(StoredData(resource), updated).ok()) return false;
  return stored == updated;
}

// db.InTransaction, inside a /Bulk transaction a savepoint: when it fails, the rows it added to
// the transaction's ChangeBuffer go with it.
Status Transaction(Database& db, const std::function<Status(soci::session&)>& work) {
  ChangeBuffer* buffer = ChangeBuffer::Current();
  if (buffer == nullptr || !db.InTransactionHere()) return db.InTransaction(work);
  ChangeBuffer::Mark mark = buffer->Position();
  Status status = db.InTransaction(work);
  if (!status.ok()) buffer->RollbackTo(mark);
  return status;
}

AuditWho WhoOf(const WriteContext& ctx) {
  return {ctx.tenant, ctx.actor, ctx.client, ctx.request_id};
}

// A group lost `member` because the member was deleted: its version moves and downstream
// systems get a members-removed event like any PATCH.
void RecordMemberGone(soci::session& s, const WriteContext& ctx, const std::string& group_id,
                      const Member& member) {
  StoredRow group;
  group.id = group_id;
  s << "SELECT data, created, last_modified, version FROM resources WHERE tenant = :t AND id = :id",
      soci::use(ctx.tenant, "t"), soci::use(group_id, "id"), soci::into(group.data),
      soci::into(group.created), soci::into(group.last_modified), soci::into(group.version);
  if (!s.got_data()) return;
  group.version += 1;
  group.last_modified = NowTimestamp();
  s << "UPDATE resources SET version = :v, last_modified = :lm WHERE tenant = :t AND id = :id",
      soci::use(group.version, "v"), soci::use(group.last_modified, "lm"),
      soci::use(ctx.tenant, "t"), soci::use(group_id, "id");
  json::Document snapshot = EventSnapshot(s, ctx.tenant, "Group", group);
  MembershipDelta delta;
  delta.removed.push_back(member);
  RecordChange(s, WhoOf(ctx), "Group", group_id, events::ChangeKind::kPatched, group.version,
               &snapshot, &delta, AuditChanges(nullptr, nullptr, false, &delta));
}

}  // namespace

ResourceStore::ResourceStore(std::shared_ptr<Database> db,
                             std::shared_ptr<const schema::Registry> registry)
    : db_(std::move(db)), registry_(std::move(registry)) {}

Result<json::Document> ResourceStore::Get(const std::string& tenant,
                                          const std::string& resource_type, const std::string& id,
                                          const ReadOptions& read) const {
  json::Document out;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    std::optional<StoredRow> row;
    if (db_->dialect() == Dialect::kSqlite) {
      // The statement ReadRowWithRelated runs, compiled once per connection (issue 12).
      BoundSql sql(RowColumns(Dialect::kSqlite, resource_type, read.include_groups) +
                       " FROM resources r WHERE r.tenant = :t AND r.resource_type = :rt AND "
                       "r.id = :id",
                   {{"t", tenant}, {"rt", resource_type}, {"id", id}});
      RunCachedSqlite(s, sql, [&](const SqliteRow& r) { row = StoredRowOf(r); });
    } else {
      row = ReadRowWithRelated(s, db_->dialect(), tenant, resource_type, id, read.include_groups,
                               db_->InTransactionHere());
    }
    if (!row) return NotFound(resource_type, id);
    out =
        AssembleResource(s, tenant, resource_type, *row, read.include_members, read.include_groups);
    return OkStatus();
  }));
  return out;
}

Result<json::Document> ResourceStore::Create(const WriteContext& ctx,
                                             const std::string& resource_type,
                                             json::Document resource,
                                             const MembershipChange& members,
                                             const std::optional<std::string>& password_hash) {
  const schema::ResourceType* type = registry_->FindResourceType(resource_type);
  if (type == nullptr) return Error(ErrorCode::kInternal, "unknown resource type " + resource_type);
  json::Document out;
  SCIM_RETURN_IF_ERROR(Transaction(*db_, [&](soci::session& s) -> Status {
    std::string now = NowTimestamp();
    StoredRow row{GenerateId(), "", now, now, 1};
    FillManagerDisplayName(s, ctx.tenant, resource, resource.GetAllocator());
    WriteResourceRows(s, db_->dialect(), *registry_, *type, ctx.tenant, row, resource,
                      password_hash, true);
    SCIM_TRY(auto delta, ApplyMembership(s, ctx.tenant, row.id, members));
    row.data = StoredData(resource);
    json::Document snapshot = EventSnapshot(s, ctx.tenant, resource_type, row);
    const MembershipDelta* group_delta = resource_type == "Group" ? &delta : nullptr;
    RecordChange(s, WhoOf(ctx), resource_type, row.id, events::ChangeKind::kCreated, row.version,
                 &snapshot, group_delta,
                 AuditChanges(nullptr, &snapshot, password_hash.has_value(), group_delta));
    // A resource created just now is in no group yet: no need to look its groups up.
    out = AssembleResource(s, ctx.tenant, resource_type, row, true, false);
    return OkStatus();
  }));
  return out;
}

Result<json::Document> ResourceStore::Modify(const WriteContext& ctx,
                                             const std::string& resource_type,
                                             const std::string& id,
                                             std::optional<int64_t> expected_version,
                                             events::ChangeKind kind, const Mutator& mutate,
                                             const ReadOptions& read) {
  const schema::ResourceType* type = registry_->FindResourceType(resource_type);
  if (type == nullptr) return Error(ErrorCode::kInternal, "unknown resource type " + resource_type);
  json::Document out;
  SCIM_RETURN_IF_ERROR(Transaction(*db_, [&](soci::session& s) -> Status {
    // With its attr_values rows: the replace below compares with them (one round trip).
    auto row = ReadRow(s, db_->dialect(), ctx.tenant, resource_type, id, true, true);
    if (!row) return NotFound(resource_type, id);
    SCIM_RETURN_IF_ERROR(CheckVersion(*row, expected_version));
    json::Document resource = AssembleResource(s, ctx.tenant, resource_type, *row, false, false);
    json::Document before;
    before.CopyFrom(resource, before.GetAllocator());
    MembershipChange members;
    std::optional<std::string> password_hash;
    SCIM_RETURN_IF_ERROR(mutate(resource, members, password_hash));
    FillManagerDisplayName(s, ctx.tenant, resource, resource.GetAllocator());
    // Membership first: adding a member already there or removing one that is not changes nothing.
    SCIM_TRY(auto delta, ApplyMembership(s, ctx.tenant, id, members));
    if (delta.empty() && !password_hash && SameStoredData(*row, resource)) {
      // RFC 7644 §3.5.2.1: a change that changes nothing keeps the version and timestamp.
      out = AssembleResource(s, ctx.tenant, resource_type, *row, read.include_members,
                             read.include_groups);
      return OkStatus();
    }
    row->version += 1;
    row->last_modified = NowTimestamp();
    WriteResourceRows(s, db_->dialect(), *registry_, *type, ctx.tenant, *row, resource,
                      password_hash, false);
    row->data = StoredData(resource);
    json::Document snapshot = EventSnapshot(s, ctx.tenant, resource_type, *row);
    const MembershipDelta* group_delta = resource_type == "Group" ? &delta : nullptr;
    UserChange user_change;
    if (resource_type == "User") {
      user_change = UserChangeFacts(before, snapshot);
      if (ActiveOf(before) != ActiveOf(snapshot)) user_change.active_before = ActiveOf(before);
    }
    RecordChange(s, WhoOf(ctx), resource_type, id, kind, row->version, &snapshot, group_delta,
                 AuditChanges(&before, &snapshot, password_hash.has_value(), group_delta),
                 user_change);
    out = AssembleResource(s, ctx.tenant, resource_type, *row, read.include_members,
                           read.include_groups);
    return OkStatus();
  }));
  return out;
}

Status ResourceStore::Delete(const WriteContext& ctx, const std::string& resource_type,
                             const std::string& id, std::optional<int64_t> expected_version) {
  return Transaction(*db_, [&](soci::session& s) -> Status {
    auto row = ReadRow(s, db_->dialect(), ctx.tenant, resource_type, id, true);
    if (!row) return NotFound(resource_type, id);
    SCIM_RETURN_IF_ERROR(CheckVersion(*row, expected_version));
    // The audit entry keeps the values the resource had (members excepted).
    json::Document gone = AssembleResource(s, ctx.tenant, resource_type, *row, false, false);
    std::vector<std::string> parents = GroupsContaining(s, ctx.tenant, id);
    std::vector<Member> members = LoadMemberRows(s, ctx.tenant, id);
    DeleteMembershipsOf(s, ctx.tenant, id);
    DeleteResourceRows(s, db_->dialect(), ctx.tenant, resource_type, id);
    std::string now = NowTimestamp();
    for (const Member& m : members) TouchResource(s, ctx.tenant, m.id, now);
    for (const std::string& parent : parents) {
      RecordMemberGone(s, ctx, parent, Member{id, resource_type});
    }
    RecordChange(s, WhoOf(ctx), resource_type, id, events::ChangeKind::kDeleted, row->version + 1,
                 nullptr, nullptr, AuditChanges(&gone, nullptr, false, nullptr));
    return OkStatus();
  });
}

Result<std::vector<Member>> ResourceStore::LoadMembers(const std::string& tenant,
                                                       const std::string& group_id) const {
  std::vector<Member> members;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    members = LoadMemberRows(s, tenant, group_id);
    return OkStatus();
  }));
  return members;
}

Status ResourceStore::InOneTransaction(const std::function<Status()>& work, bool savepoints) {
  if (ChangeBuffer::Current() != nullptr && db_->InTransactionHere()) {  // nested: a savepoint
    return Transaction(*db_, [&](soci::session&) { return work(); });
  }
  Dialect dialect = db_->dialect();
  return db_->InTransaction([&](soci::session& s) -> Status {
    if (!savepoints) NestWithoutSavepoints(*db_);
    ChangeBuffer buffer(s, dialect);
    SCIM_RETURN_IF_ERROR(work());
    // Doomed (all_or_nothing.h): it rolls back with the failure that doomed it; nothing to write.
    if (TransactionDoomed(*db_)) return OkStatus();
    buffer.Flush();  // before COMMIT: a failure here fails the whole transaction
    return OkStatus();
  });
}

Result<std::optional<std::string>> ResourceStore::PasswordHash(const std::string& tenant,
                                                               const std::string& id) const {
  std::optional<std::string> hash;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    std::string value;
    soci::indicator ind = soci::i_null;
    s << "SELECT password_hash FROM resources WHERE tenant = :t AND id = :id",
        soci::use(tenant, "t"), soci::use(id, "id"), soci::into(value, ind);
    if (s.got_data() && ind == soci::i_ok) hash = value;
    return OkStatus();
  }));
  return hash;
}

std::string FormatVersion(int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

std::optional<int64_t> ParseVersion(std::string_view etag) {
  if (etag.substr(0, 2) == "W/") etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  if (etag.empty() || etag.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : etag) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace scim::store
