#include "store/resource_writer.h"

#include <algorithm>
#include <map>

#include "scim/common/clock.h"
#include "scim/common/strings.h"
#include "store/bound_sql.h"
#include "store/cached_sql.h"
#include "store/pg_prepared.h"
#include "store/pg_statement_cache.h"
#include "store/resource_rows.h"
#include "store/sql_util.h"

namespace scim::store {
namespace {

constexpr const char* kEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

}  // namespace

namespace {

// The attr_values rows of one resource as PostgreSQL's json_agg of
// [path, ord, value, value_lc, num as text, value_lc_full] arrays (ReadRow).
std::vector<AttrValueRow> AttrValuesFromJson(const std::optional<std::string>& text) {
  std::vector<AttrValueRow> rows;
  json::Document doc;
  if (!text || !json::Parse(*text, doc).ok() || !doc.IsArray()) return rows;
  auto string_at = [](const json::Value& a, rapidjson::SizeType i) {
    return a[i].IsString() ? std::string(json::View(a[i])) : std::string();
  };
  for (const auto& a : doc.GetArray()) {
    if (!a.IsArray() || a.Size() != 6) continue;
    AttrValueRow row;
    row.path = string_at(a, 0);
    row.ord = a[1].IsInt() ? a[1].GetInt() : 0;
    row.value = string_at(a, 2);
    row.value_lc = string_at(a, 3);
    if (a[4].IsString()) row.num = std::strtod(a[4].GetString(), nullptr);
    if (a[5].IsString()) row.value_lc_full = string_at(a, 5);
    rows.push_back(std::move(row));
  }
  return rows;
}

// The first row of a read selecting id, data, created, last_modified, version first.
StoredRow RowOf(const CachedRows& rows) {
  StoredRow row;
  row.id = rows.at(0, 0).value_or("");
  row.data = rows.at(0, 1).value_or("");
  row.created = rows.at(0, 2).value_or("");
  row.last_modified = rows.at(0, 3).value_or("");
  row.version = std::atoll(rows.at(0, 4).value_or("0").c_str());
  return row;
}

}  // namespace

std::optional<StoredRow> ReadRow(soci::session& s, Dialect dialect, const std::string& tenant,
                                 const std::string& resource_type, const std::string& id,
                                 bool for_update, bool with_attr_values) {
  bool lock = for_update && dialect == Dialect::kPostgres;
  if (lock && with_attr_values) {
    // The same read and lock, with the attr_values rows (as LoadAttrValueRows orders them).
    CachedRows rows = RunCached(
        s, dialect, "row_lock_av",
        "SELECT id, data, created, last_modified, version, resource_type, (SELECT "
        "json_agg(json_build_array(a.path, a.ord, a.value, a.value_lc, CAST(a.num AS text), "
        "a.value_lc_full) ORDER BY a.path, a.ord) FROM attr_values a WHERE a.tenant = $1 AND "
        "a.resource_id = $2) FROM resources WHERE tenant = $1 AND id = $2 FOR UPDATE",
        {tenant, id});
    if (rows.size() == 0 || rows.at(0, 5) != resource_type) return std::nullopt;
    StoredRow row = RowOf(rows);
    row.attr_values = AttrValuesFromJson(rows.at(0, 6));
    return row;
  }
  // Kept prepared per connection (cached_sql.h): every PUT, PATCH and DELETE reads this way.
  // By primary key only: with `resource_type = ...` in the WHERE, PostgreSQL without fresh
  // statistics (a tenant's first big /Bulk) chose resources_active (tenant, resource_type,
  // active) and read every resource of the type per PUT (pg_stat_user_indexes: 1,500 tuples
  // read per scan at 1,000 users). The type is checked here instead.
  CachedRows rows =
      RunCached(s, dialect, lock ? "row_lock" : "row_read",
                std::string("SELECT id, data, created, last_modified, version, resource_type FROM "
                            "resources WHERE tenant = $1 AND id = $2") +
                    (lock ? " FOR UPDATE" : ""),
                {tenant, id});
  if (rows.size() == 0 || rows.at(0, 5) != resource_type) return std::nullopt;
  return RowOf(rows);
}

std::string RowColumns(Dialect dialect, const std::string& resource_type, bool include_groups) {
  std::string columns = "SELECT r.id, r.data, r.created, r.last_modified, r.version";
  if (resource_type != "User") return columns;
  // Groups: index-only on group_members_member, then the groups' rows by primary key. SQLite's
  // json_group_array gives "[]" for none, PostgreSQL's json_agg NULL; order is restored in C++.
  // The member is the bound :t/:id, not r.tenant/r.id: on PostgreSQL `member_id = r.id` compares
  // under r.id's collation "C", which group_members_member (default collation) cannot serve (a
  // sequential scan of group_members per read).
  const char* groups_from =
      " FROM group_members m JOIN resources g ON g.tenant = m.tenant AND g.id = m.group_id "
      "WHERE m.tenant = :t AND m.member_id = :id)";
  if (!include_groups) {
    columns += ", NULL";
  } else if (dialect == Dialect::kPostgres) {
    columns +=
        ", (SELECT CAST(json_agg(json_build_array(m.group_id, "
        "COALESCE(g.display_name, ''))) AS TEXT)" +
        std::string(groups_from);
  } else {
    columns += ", (SELECT json_group_array(json_array(m.group_id, COALESCE(g.display_name, '')))" +
               std::string(groups_from);
  }
  // The manager's id as stored (urn:...:enterprise:2.0:User.manager.value), its current name.
  std::string manager_id =
      dialect == Dialect::kPostgres
          ? std::string("(r.data -> '") + kEnterprise + "' -> 'manager' ->> 'value')"
          : std::string("(CASE WHEN json_valid(r.data) THEN json_extract(r.data, '$.\"") +
                kEnterprise + "\".manager.value') END)";
  columns +=
      ", (SELECT COALESCE(mg.display_name, mg.user_name) FROM resources mg WHERE "
      "mg.tenant = r.tenant AND mg.resource_type = 'User' AND mg.id = " +
      manager_id + ")";
  return columns;
}

StoredRow RowFrom(const soci::row& r) {
  StoredRow row;
  row.id = r.get<std::string>(0);
  row.data = r.get<std::string>(1);
  row.created = r.get<std::string>(2);
  row.last_modified = r.get<std::string>(3);
  row.version = IntegerAt(r, 4);
  if (r.size() >= 7) {
    row.related = true;
    if (r.get_indicator(5) == soci::i_ok) row.groups_json = r.get<std::string>(5);
    if (r.get_indicator(6) == soci::i_ok) row.manager_name = r.get<std::string>(6);
  }
  return row;
}

namespace {

// Runs `sql` (at most one row) as the connection's prepared statement `name` (pg_prepared.h).
// Outside a transaction only: a failing execution inside one would abort it. nullopt when there
// is no row.
std::optional<StoredRow> ReadPrepared(soci::session& s, const std::string& name,
                                      const BoundSql& sql) {
  std::vector<const char*> params;
  for (const std::string& v : sql.ordered_values()) params.push_back(v.c_str());
  PgResult res = ExecPrepared(s, name, PositionalSql(sql), params);
  if (res.rows() == 0) return std::nullopt;
  return StoredRowOf(res, 0);
}

}  // namespace

std::optional<StoredRow> ReadRowWithRelated(soci::session& s, Dialect dialect,
                                            const std::string& tenant,
                                            const std::string& resource_type, const std::string& id,
                                            bool include_groups, bool in_transaction) {
  // BoundSql: :t and :id occur more than once.
  BoundSql sql(RowColumns(dialect, resource_type, include_groups) +
                   " FROM resources r WHERE r.tenant = :t AND r.resource_type = :rt AND r.id = :id",
               {{"t", tenant}, {"rt", resource_type}, {"id", id}});
  if (dialect == Dialect::kPostgres && !in_transaction) {
    std::string name = std::string("scim_read_") + (resource_type == "User" ? "user" : "other") +
                       (include_groups ? "_groups" : "");
    return ReadPrepared(s, name, sql);
  }
  soci::row r;
  sql.Once(s, soci::into(r));  // a one-time query: one PQexecParams on PostgreSQL
  if (!s.got_data()) return std::nullopt;
  return RowFrom(r);
}

namespace {

// The groups read with a row (RowColumns): [[id, displayName], ...], ordered by group id.
std::vector<GroupRef> GroupsFromJson(const std::string& text) {
  std::vector<GroupRef> groups;
  json::Document doc;
  if (text.empty() || !json::Parse(text, doc).ok() || !doc.IsArray()) return groups;
  for (const auto& pair : doc.GetArray()) {
    if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString()) continue;
    groups.push_back({std::string(json::View(pair[0])), std::string(json::View(pair[1]))});
  }
  std::sort(groups.begin(), groups.end(),
            [](const GroupRef& a, const GroupRef& b) { return a.id < b.id; });
  return groups;
}

// schemas, id and the stored attributes of a row (no members, groups or meta yet). The stored
// JSON is parsed once into the document the response is built from: its members are moved
// (RapidJSON moves by pointer), never copied, into an object that starts with schemas and id
// (issue 12: a deep copy of every value was a second parse's worth of allocations per read).
json::Document ResourceFromRow(const StoredRow& row) {
  json::Document doc;
  if (!json::Parse(row.data, doc).ok() || !doc.IsObject()) doc.SetObject();
  auto& alloc = doc.GetAllocator();
  json::Value out(rapidjson::kObjectType);
  if (auto schemas = doc.FindMember("schemas"); schemas != doc.MemberEnd()) {
    out.AddMember(schemas->name, schemas->value, alloc);  // moved: left null in `doc`
  }
  out.AddMember("id", json::String(row.id, alloc), alloc);
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    if (it->name.IsNull()) continue;  // schemas, moved above
    out.AddMember(it->name, it->value, alloc);
  }
  // The pool allocator frees nothing: the old member array stays in `doc`'s pool until it goes.
  static_cast<json::Value&>(doc) = out;
  return doc;
}

void AddMeta(const std::string& resource_type, const StoredRow& row, json::Document& doc) {
  auto& alloc = doc.GetAllocator();
  json::Value meta(rapidjson::kObjectType);
  meta.AddMember("resourceType", json::String(resource_type, alloc), alloc);
  meta.AddMember("created", json::String(row.created, alloc), alloc);
  meta.AddMember("lastModified", json::String(row.last_modified, alloc), alloc);
  meta.AddMember("version", json::String(FormatVersion(row.version), alloc), alloc);
  doc.AddMember("meta", meta, alloc);
}

// The Enterprise manager object of a User with its (derived) displayName removed; null if none.
json::Value* ManagerOf(json::Value& resource) {
  auto ext = resource.FindMember(kEnterprise);
  if (ext == resource.MemberEnd() || !ext->value.IsObject()) return nullptr;
  auto manager = ext->value.FindMember("manager");
  if (manager == ext->value.MemberEnd() || !manager->value.IsObject()) return nullptr;
  json::RemoveMemberCI(manager->value, "displayName");
  return &manager->value;
}

std::optional<std::string> ManagerId(json::Value* manager) {
  if (manager == nullptr) return std::nullopt;
  auto value = manager->FindMember("value");
  if (value == manager->MemberEnd() || !value->value.IsString()) return std::nullopt;
  return std::string(json::View(value->value));
}

// displayName (else userName) of the Users among `ids`, in one query (on PostgreSQL one round
// trip: a one-time query into vectors; at most one row per distinct id).
std::map<std::string, std::string> UserDisplayNames(soci::session& s, const std::string& tenant,
                                                    const std::vector<std::string>& ids) {
  std::map<std::string, std::string> names;
  if (ids.empty()) return names;
  std::map<std::string, std::string> params{{"t", tenant}};
  std::string in_list = InList(ids, "i", params);
  BoundSql sql(
      "SELECT id, COALESCE(display_name, user_name) FROM resources WHERE tenant = :t AND "
      "resource_type = 'User' AND id IN (" +
          in_list + ")",
      params);
  if (s.get_backend_name() != "postgresql") {  // in-process: no round trips to save
    soci::rowset<soci::row> rows(sql.Prepare(s));
    for (const soci::row& r : rows) {
      if (r.get_indicator(1) == soci::i_ok) names[r.get<std::string>(0)] = r.get<std::string>(1);
    }
    return names;
  }
  size_t n = std::max<size_t>(2, ids.size());  // a vector of 1 is not resized to 0 rows
  std::vector<std::string> found(n), name(n);
  std::vector<soci::indicator> has_name(n);
  sql.Once(s, soci::into(found), soci::into(name, has_name));
  for (size_t i = 0; i < found.size(); ++i) {
    if (has_name[i] == soci::i_ok) names[found[i]] = name[i];
  }
  return names;
}

// The direct groups of each of `ids` in one query (on PostgreSQL one round trip): one row per
// member that has groups, its groups as a JSON array of [id, displayName] (a one-time query into
// vectors needs a bound on the number of rows).
std::map<std::string, std::vector<GroupRef>> GroupsOfMembers(soci::session& s, Dialect dialect,
                                                             const std::string& tenant,
                                                             const std::vector<std::string>& ids) {
  std::map<std::string, std::vector<GroupRef>> groups;
  if (ids.empty()) return groups;
  if (ids.size() == 1) {  // one resource (a write's answer): a statement kept prepared
    const char* agg =
        dialect == Dialect::kPostgres
            ? "CAST(json_agg(json_build_array(m.group_id, COALESCE(g.display_name, ''))) AS TEXT)"
            : "json_group_array(json_array(m.group_id, COALESCE(g.display_name, '')))";
    CachedRows rows = RunCached(s, dialect, "groups_of_one",
                                std::string("SELECT ") + agg +
                                    " FROM group_members m JOIN resources g ON g.tenant = "
                                    "m.tenant AND g.id = m.group_id WHERE m.tenant = $1 AND "
                                    "m.member_id = $2",
                                {tenant, ids[0]});
    if (rows.size() > 0 && rows.at(0, 0)) {
      std::vector<GroupRef> refs = GroupsFromJson(*rows.at(0, 0));
      if (!refs.empty()) groups[ids[0]] = std::move(refs);
    }
    return groups;
  }
  std::map<std::string, std::string> params{{"t", tenant}};
  std::string in_list = InList(ids, "m", params);
  const char* agg = dialect == Dialect::kPostgres
                        ? "CAST(json_agg(json_build_array(m.group_id, COALESCE(g.display_name, "
                          "''))) AS TEXT)"
                        : "json_group_array(json_array(m.group_id, COALESCE(g.display_name, '')))";
  BoundSql sql(std::string("SELECT m.member_id, ") + agg +
                   " FROM group_members m JOIN resources g ON g.tenant = m.tenant AND g.id = "
                   "m.group_id WHERE m.tenant = :t AND m.member_id IN (" +
                   in_list + ") GROUP BY m.member_id",
               params);
  if (dialect != Dialect::kPostgres) {  // in-process: no round trips to save
    soci::rowset<soci::row> rows(sql.Prepare(s));
    for (const soci::row& r : rows) {
      groups[r.get<std::string>(0)] = GroupsFromJson(r.get<std::string>(1));
    }
    return groups;
  }
  size_t n = std::max<size_t>(2, ids.size());  // a vector of 1 is not resized to 0 rows
  std::vector<std::string> members(n), lists(n);
  sql.Once(s, soci::into(members), soci::into(lists));
  for (size_t i = 0; i < members.size(); ++i) groups[members[i]] = GroupsFromJson(lists[i]);
  return groups;
}

// Sets manager.displayName of each User from its manager's current name (follows renames).
void FillManagerDisplayNames(soci::session& s, const std::string& tenant,
                             std::vector<json::Document>& users) {
  std::vector<std::optional<std::string>> manager_ids;
  std::vector<std::string> wanted;
  for (json::Document& user : users) {
    manager_ids.push_back(ManagerId(ManagerOf(user)));
    if (manager_ids.back()) wanted.push_back(*manager_ids.back());
  }
  std::map<std::string, std::string> names = UserDisplayNames(s, tenant, wanted);
  for (size_t i = 0; i < users.size(); ++i) {
    if (!manager_ids[i]) continue;
    auto name = names.find(*manager_ids[i]);
    if (name == names.end()) continue;
    auto& alloc = users[i].GetAllocator();
    ManagerOf(users[i])->AddMember("displayName", json::String(name->second, alloc), alloc);
  }
}

// Sets manager.displayName from the name read with the row (RowColumns).
void FillManagerDisplayNameRead(const StoredRow& row, json::Document& user) {
  json::Value* manager = ManagerOf(user);
  if (manager == nullptr || !ManagerId(manager) || !row.manager_name) return;
  manager->AddMember("displayName", json::String(*row.manager_name, user.GetAllocator()),
                     user.GetAllocator());
}

void AddGroupsRead(const StoredRow& row, json::Document& user) {
  std::vector<GroupRef> groups = GroupsFromJson(row.groups_json);
  if (groups.empty()) return;
  json::Value list;
  GroupsToJson(groups, list, user.GetAllocator());
  user.AddMember("groups", list, user.GetAllocator());
}

void AddGroups(soci::session& s, Dialect dialect, const std::string& tenant,
               std::vector<json::Document>& users) {
  std::vector<std::string> ids;
  for (const json::Document& user : users) ids.emplace_back(json::View(user["id"]));
  std::map<std::string, std::vector<GroupRef>> groups = GroupsOfMembers(s, dialect, tenant, ids);
  for (json::Document& user : users) {
    auto found = groups.find(std::string(json::View(user["id"])));
    if (found == groups.end()) continue;
    json::Value list;
    GroupsToJson(found->second, list, user.GetAllocator());
    user.AddMember("groups", list, user.GetAllocator());
  }
}

}  // namespace

std::vector<json::Document> AssembleResources(soci::session& s, const std::string& tenant,
                                              const std::string& resource_type,
                                              const std::vector<StoredRow>& rows,
                                              bool include_members, bool include_groups) {
  std::vector<json::Document> docs;
  for (const StoredRow& row : rows) docs.push_back(ResourceFromRow(row));
  if (include_members && resource_type == "Group") {
    for (json::Document& doc : docs) {
      json::Value members;
      ReadMembers(s, tenant, std::string(json::View(doc["id"])), members, doc.GetAllocator());
      doc.AddMember("members", members, doc.GetAllocator());
    }
  }
  bool related = !rows.empty() && std::all_of(rows.begin(), rows.end(),
                                              [](const StoredRow& r) { return r.related; });
  if (resource_type == "User" && related) {
    // Read with the rows: no further statement.
    for (size_t i = 0; i < docs.size(); ++i) {
      if (include_groups) AddGroupsRead(rows[i], docs[i]);
      FillManagerDisplayNameRead(rows[i], docs[i]);
    }
  } else if (resource_type == "User") {
    Dialect dialect = s.get_backend_name() == "postgresql" ? Dialect::kPostgres : Dialect::kSqlite;
    if (include_groups) AddGroups(s, dialect, tenant, docs);
    FillManagerDisplayNames(s, tenant, docs);
  }
  for (size_t i = 0; i < docs.size(); ++i) AddMeta(resource_type, rows[i], docs[i]);
  return docs;
}

json::Document AssembleResource(soci::session& s, const std::string& tenant,
                                const std::string& resource_type, const StoredRow& row,
                                bool include_members, bool include_groups) {
  std::vector<json::Document> one =
      AssembleResources(s, tenant, resource_type, {row}, include_members, include_groups);
  return std::move(one.front());
}

void FillManagerDisplayName(soci::session& s, const std::string& tenant, json::Value& resource,
                            json::Allocator& alloc) {
  json::Value* manager = ManagerOf(resource);
  std::optional<std::string> id = ManagerId(manager);
  if (!id) return;
  auto names = UserDisplayNames(s, tenant, {*id});
  if (auto name = names.find(*id); name != names.end())
    manager->AddMember("displayName", json::String(name->second, alloc), alloc);
}

}  // namespace scim::store
