#include "store/resource_writer.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "scim/common/clock.h"
#include "scim/common/strings.h"
#include "store/bound_sql.h"
#include "store/resource_counts.h"
#include "store/resource_rows.h"
#include "store/sql_util.h"

namespace scim::store {
namespace {

constexpr const char* kEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

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

// PostgreSQL: every row in one statement (one round trip instead of one per row plus the
// prepare and deallocate), the rows travelling as one JSON parameter.
void InsertAttrValuesAtOnce(soci::session& s, const std::string& tenant, const std::string& type,
                            const std::string& id, const std::vector<AttrValueRow>& rows) {
  json::Document list(rapidjson::kArrayType);
  auto& alloc = list.GetAllocator();
  for (const AttrValueRow& r : rows) {
    json::Value row(rapidjson::kObjectType);
    row.AddMember("p", json::String(r.path, alloc), alloc);
    row.AddMember("o", r.ord, alloc);
    row.AddMember("v", json::String(r.value, alloc), alloc);
    row.AddMember("l", json::String(r.value_lc, alloc), alloc);
    if (r.value_lc_full) row.AddMember("f", json::String(*r.value_lc_full, alloc), alloc);
    if (r.num) row.AddMember("n", *r.num, alloc);
    list.PushBack(row, alloc);
  }
  std::string encoded = json::Serialize(list);
  s << "INSERT INTO attr_values (tenant, resource_type, resource_id, path, ord, value, value_lc, "
       "value_lc_full, num) SELECT :t, :rt, :id, x.p, x.o, x.v, x.l, x.f, x.n FROM "
       "json_to_recordset(CAST(:rows AS json)) AS x(p text, o integer, v text, l text, f text, "
       "n double precision)",
      soci::use(tenant, "t"), soci::use(type, "rt"), soci::use(id, "id"),
      soci::use(encoded, "rows");
}

void InsertAttrValues(soci::session& s, Dialect dialect, const std::string& tenant,
                      const std::string& type, const std::string& id,
                      const std::vector<AttrValueRow>& rows) {
  if (rows.empty()) return;
  if (dialect == Dialect::kPostgres) return InsertAttrValuesAtOnce(s, tenant, type, id, rows);
  AttrValueRow row;
  double num = 0;
  soci::indicator num_ind = soci::i_null;
  std::string full;
  soci::indicator full_ind = soci::i_null;
  soci::statement st =
      (s.prepare << "INSERT INTO attr_values (tenant, resource_type, resource_id, path, ord, "
                    "value, value_lc, value_lc_full, num) VALUES (:t, :rt, :id, :p, :o, :v, :vl, "
                    ":vf, :n)",
       soci::use(tenant, "t"), soci::use(type, "rt"), soci::use(id, "id"), soci::use(row.path, "p"),
       soci::use(row.ord, "o"), soci::use(row.value, "v"), soci::use(row.value_lc, "vl"),
       soci::use(full, full_ind, "vf"), soci::use(num, num_ind, "n"));
  for (const AttrValueRow& r : rows) {
    row = r;
    num = r.num.value_or(0);
    num_ind = r.num ? soci::i_ok : soci::i_null;
    full = r.value_lc_full.value_or("");
    full_ind = r.value_lc_full ? soci::i_ok : soci::i_null;
    st.execute(true);
  }
}

// A resource's attr_values rows grouped by (path, ord): one group is one leaf value (or the
// values of one multi-valued leaf) of one element.
using RowGroups = std::map<std::pair<std::string, int>, std::vector<AttrValueRow>>;

RowGroups GroupRows(const std::vector<AttrValueRow>& rows) {
  RowGroups groups;
  for (const AttrValueRow& r : rows) groups[{r.path, r.ord}].push_back(r);
  return groups;
}

bool SameRows(const std::vector<AttrValueRow>& a, const std::vector<AttrValueRow>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.value == y.value && x.value_lc == y.value_lc && x.value_lc_full == y.value_lc_full &&
           x.num == y.num;
  });
}

std::vector<AttrValueRow> LoadAttrValueRows(soci::session& s, const std::string& tenant,
                                            const std::string& id) {
  std::vector<AttrValueRow> rows;
  soci::rowset<soci::row> result =
      (s.prepare << "SELECT path, ord, value, value_lc, num, value_lc_full FROM attr_values "
                    "WHERE tenant = :t AND resource_id = :id ORDER BY path, ord",
       soci::use(tenant, "t"), soci::use(id, "id"));
  for (const soci::row& r : result) {
    AttrValueRow row;
    row.path = r.get<std::string>(0);
    row.ord = static_cast<int>(IntegerAt(r, 1));
    row.value = r.get<std::string>(2);
    row.value_lc = r.get<std::string>(3);
    if (r.get_indicator(4) == soci::i_ok) row.num = r.get<double>(4);
    if (r.get_indicator(5) == soci::i_ok) row.value_lc_full = r.get<std::string>(5);
    rows.push_back(std::move(row));
  }
  return rows;
}

// Rewrites only the (path, ord) groups whose values changed: a PUT that changes one attribute
// (an HR re-run) touches one or two rows and their index entries instead of every row.
void ReplaceAttrValues(soci::session& s, Dialect dialect, const std::string& tenant,
                       const std::string& type, const std::string& id,
                       const std::vector<AttrValueRow>& fresh) {
  RowGroups before = GroupRows(LoadAttrValueRows(s, tenant, id));
  RowGroups after = GroupRows(fresh);
  std::string path;
  int ord = 0;
  soci::statement drop =
      (s.prepare << "DELETE FROM attr_values WHERE tenant = :t AND resource_id = :id "
                    "AND path = :p AND ord = :o",
       soci::use(tenant, "t"), soci::use(id, "id"), soci::use(path, "p"), soci::use(ord, "o"));
  std::vector<AttrValueRow> inserts;
  for (const auto& [key, rows] : before) {
    auto now = after.find(key);
    if (now != after.end() && SameRows(rows, now->second)) continue;
    path = key.first;
    ord = key.second;
    drop.execute(true);
  }
  for (const auto& [key, rows] : after) {
    auto then = before.find(key);
    if (then != before.end() && SameRows(rows, then->second)) continue;
    inserts.insert(inserts.end(), rows.begin(), rows.end());
  }
  InsertAttrValues(s, dialect, tenant, type, id, inserts);
}

}  // namespace

std::optional<StoredRow> ReadRow(soci::session& s, Dialect dialect, const std::string& tenant,
                                 const std::string& resource_type, const std::string& id,
                                 bool for_update) {
  StoredRow row;
  std::string sql =
      "SELECT id, data, created, last_modified, version FROM resources WHERE tenant = :t AND "
      "resource_type = :rt AND id = :id";
  if (for_update && dialect == Dialect::kPostgres) sql += " FOR UPDATE";
  s << sql, soci::use(tenant, "t"), soci::use(resource_type, "rt"), soci::use(id, "id"),
      soci::into(row.id), soci::into(row.data), soci::into(row.created),
      soci::into(row.last_modified), soci::into(row.version);
  if (!s.got_data()) return std::nullopt;
  return row;
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

// Per-connection prepared statements (PostgreSQL, libpq's extended protocol: SQL EXECUTE takes no
// bound parameters). Which connections (PGconn) have prepared which statement; a connection made
// since at the same address has none: PQexecPrepared then fails with 26000 and the statement is
// prepared again.
std::mutex prepared_mu;
std::set<std::pair<const void*, std::string>> prepared;

bool IsPrepared(const PGconn* conn, const std::string& name) {
  std::lock_guard<std::mutex> lock(prepared_mu);
  return prepared.count({conn, name}) > 0;
}

std::string SqlState(const PGresult* res) {
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  return state == nullptr ? "" : state;
}

[[noreturn]] void Fail(PGconn* conn, PGresult* res) {
  std::string message = PQerrorMessage(conn);
  std::string state = SqlState(res);
  PQclear(res);
  throw soci::postgresql_soci_error(message, state.empty() ? "XX000" : state.c_str());
}

void PrepareOn(PGconn* conn, const std::string& name, const std::string& body, int n) {
  PGresult* res = PQprepare(conn, name.c_str(), body.c_str(), n, nullptr);
  // 42P05 duplicate_prepared_statement: it is there already.
  if (PQresultStatus(res) != PGRES_COMMAND_OK && SqlState(res) != "42P05") Fail(conn, res);
  PQclear(res);
  std::lock_guard<std::mutex> lock(prepared_mu);
  prepared.insert({conn, name});
}

// Runs `sql` (at most one row) as the connection's prepared statement `name`: prepared once per
// connection, then one PQexecPrepared per read: one round trip, no parsing or planning of the
// statement again (after five executions PostgreSQL keeps a generic plan). Outside a transaction
// only: a failing execution inside one would abort it. nullopt when there is no row.
std::optional<StoredRow> ReadPrepared(soci::session& s, const std::string& name,
                                      const BoundSql& sql) {
  PGconn* conn = static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
  const std::vector<std::string>& values = sql.ordered_values();
  std::string body = sql.sql();
  for (size_t i = values.size(); i-- > 0;) {  // :b10 before :b1
    std::string placeholder = ":b" + std::to_string(i);
    for (size_t at = body.find(placeholder); at != std::string::npos;
         at = body.find(placeholder, at)) {
      body.replace(at, placeholder.size(), "$" + std::to_string(i + 1));
    }
  }
  std::vector<const char*> params;
  for (const std::string& v : values) params.push_back(v.c_str());
  int n = static_cast<int>(params.size());
  if (!IsPrepared(conn, name)) PrepareOn(conn, name, body, n);
  PGresult* res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK && SqlState(res) == "26000") {
    PQclear(res);  // invalid_sql_statement_name: a new connection
    PrepareOn(conn, name, body, n);
    res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
  }
  if (PQresultStatus(res) != PGRES_TUPLES_OK) Fail(conn, res);
  std::optional<StoredRow> row;
  if (PQntuples(res) > 0) {
    auto text = [&](int col) {
      return std::string(PQgetvalue(res, 0, col), PQgetlength(res, 0, col));
    };
    row = StoredRow{text(0), text(1), text(2), text(3), std::atoll(PQgetvalue(res, 0, 4))};
    if (PQnfields(res) >= 7) {
      row->related = true;
      if (!PQgetisnull(res, 0, 5)) row->groups_json = text(5);
      if (!PQgetisnull(res, 0, 6)) row->manager_name = text(6);
    }
  }
  PQclear(res);
  return row;
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

// schemas, id and the stored attributes of a row (no members, groups or meta yet).
json::Document ResourceFromRow(const StoredRow& row) {
  json::Document data;
  if (!json::Parse(row.data, data).ok() || !data.IsObject()) data.SetObject();
  json::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  if (auto schemas = data.FindMember("schemas"); schemas != data.MemberEnd()) {
    doc.AddMember("schemas", json::Value(schemas->value, alloc), alloc);
  }
  doc.AddMember("id", json::String(row.id, alloc), alloc);
  for (auto it = data.MemberBegin(); it != data.MemberEnd(); ++it) {
    if (json::View(it->name) == "schemas") continue;
    doc.AddMember(json::Value(it->name, alloc), json::Value(it->value, alloc), alloc);
  }
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

void WriteResourceRows(soci::session& s, Dialect dialect, const schema::Registry& registry,
                       const schema::ResourceType& type, const std::string& tenant,
                       const StoredRow& row, const json::Value& resource,
                       const std::optional<std::string>& password_hash, bool insert) {
  IndexedColumns c = ExtractColumns(resource);
  NullableString user_name(c.user_name), external_id(c.external_id), display(c.display_name);
  // user_name_lc is the uniqueness key of userName (caseExact=false, RFC 7643 §4.1.1): folded
  // with Unicode rules, so "JÜRGEN" and "jürgen" are one user.
  NullableString user_lc(c.user_name ? std::optional(FoldCase(*c.user_name)) : std::nullopt);
  NullableString display_lc(c.display_name ? std::optional(FoldCase(*c.display_name))
                                           : std::nullopt);
  NullableInt active(c.active);
  NullableString password(password_hash);
  std::string data = StoredData(resource);
  std::string sql =
      insert ? "INSERT INTO resources (tenant, id, resource_type, user_name, user_name_lc, "
               "external_id, display_name, display_name_lc, active, created, last_modified, "
               "version, password_hash, data) VALUES (:t, :id, :rt, :un, :unl, :ext, :dn, :dnl, "
               ":ac, :cr, :lm, :v, :pw, " +
                   JsonParam(dialect, "data") + ")"
             : "UPDATE resources SET user_name = :un, user_name_lc = :unl, external_id = :ext, "
               "display_name = :dn, display_name_lc = :dnl, active = :ac, created = :cr, "
               "last_modified = :lm, "
               "version = :v, password_hash = COALESCE(:pw, password_hash), data = " +
                   JsonParam(dialect, "data") +
                   " WHERE tenant = :t AND id = :id AND resource_type = :rt";
  s << sql, soci::use(tenant, "t"), soci::use(row.id, "id"), soci::use(type.name, "rt"),
      soci::use(user_name.value, user_name.ind, "un"), soci::use(user_lc.value, user_lc.ind, "unl"),
      soci::use(external_id.value, external_id.ind, "ext"),
      soci::use(display.value, display.ind, "dn"),
      soci::use(display_lc.value, display_lc.ind, "dnl"), soci::use(active.value, active.ind, "ac"),
      soci::use(row.created, "cr"), soci::use(row.last_modified, "lm"), soci::use(row.version, "v"),
      soci::use(password.value, password.ind, "pw"), soci::use(data, "data");
  std::vector<AttrValueRow> fresh = ExtractAttrValues(registry, type, resource);
  if (insert) {
    InsertAttrValues(s, dialect, tenant, type.name, row.id, fresh);
    AdjustResourceCount(s, dialect, tenant, type.name, +1);
  } else {
    ReplaceAttrValues(s, dialect, tenant, type.name, row.id, fresh);
  }
}

void DeleteResourceRows(soci::session& s, Dialect dialect, const std::string& tenant,
                        const std::string& resource_type, const std::string& id) {
  s << "DELETE FROM attr_values WHERE tenant = :t AND resource_id = :id", soci::use(tenant, "t"),
      soci::use(id, "id");
  s << "DELETE FROM resources WHERE tenant = :t AND id = :id", soci::use(tenant, "t"),
      soci::use(id, "id");
  // The caller read the row under its write lock (ReadRow for_update): it existed until now.
  AdjustResourceCount(s, dialect, tenant, resource_type, -1);
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

void InsertAuditRow(soci::session& s, const AuditWho& who, const std::string& action,
                    const std::string& resource_type, const std::string& id, long long version,
                    const std::string& changes) {
  std::string now = NowTimestamp();
  soci::indicator client_ind = who.client.empty() ? soci::i_null : soci::i_ok;
  soci::indicator request_ind = who.request_id.empty() ? soci::i_null : soci::i_ok;
  soci::indicator changes_ind = changes.empty() ? soci::i_null : soci::i_ok;
  s << "INSERT INTO audit_log (tenant, time, actor, action, resource_type, resource_id, version, "
       "client, request_id, changes) VALUES (:t, :tm, :a, :ac, :rt, :id, :v, :cl, :rq, :ch)",
      soci::use(who.tenant, "t"), soci::use(now, "tm"), soci::use(who.actor, "a"),
      soci::use(action, "ac"), soci::use(resource_type, "rt"), soci::use(id, "id"),
      soci::use(version, "v"), soci::use(who.client, client_ind, "cl"),
      soci::use(who.request_id, request_ind, "rq"), soci::use(changes, changes_ind, "ch");
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
  InsertAuditRow(s, who, AuditAction(kind), resource_type, id, version, changes);
  s << "INSERT INTO outbox (tenant, resource_type, resource_id, event, version, payload, created) "
       "VALUES (:t, :rt, :id, :ev, :v, :p, :cr)",
      soci::use(tenant, "t"), soci::use(resource_type, "rt"), soci::use(id, "id"),
      soci::use(event, "ev"), soci::use(version, "v"), soci::use(payload, "p"),
      soci::use(now, "cr");
}

namespace {

bool Hidden(const std::string& key) {
  return key == "meta" || key == "id" || EqualsIgnoreCase(key, "password");
}

void AddChange(json::Value& list, const std::string& path, const json::Value* old_value,
               const json::Value* new_value, json::Allocator& alloc) {
  json::Value item(rapidjson::kObjectType);
  item.AddMember("attribute", json::String(path, alloc), alloc);
  item.AddMember("old", old_value ? json::Value(*old_value, alloc) : json::Value(), alloc);
  item.AddMember("new", new_value ? json::Value(*new_value, alloc) : json::Value(), alloc);
  list.PushBack(item, alloc);
}

const json::Value* Field(const json::Value* object, const std::string& key) {
  if (object == nullptr || !object->IsObject()) return nullptr;
  auto it = object->FindMember(key.c_str());
  return it == object->MemberEnd() ? nullptr : &it->value;
}

// Keys of `a` then those of `b` not in `a`, in order.
std::vector<std::string> UnionKeys(const json::Value* a, const json::Value* b) {
  std::vector<std::string> keys;
  for (const json::Value* v : {a, b}) {
    if (v == nullptr || !v->IsObject()) continue;
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  return keys;
}

void DiffObjects(const json::Value* before, const json::Value* after, const std::string& prefix,
                 int depth, json::Value& list, json::Allocator& alloc) {
  for (const std::string& key : UnionKeys(before, after)) {
    if (Hidden(key)) continue;
    const json::Value* old_value = Field(before, key);
    const json::Value* new_value = Field(after, key);
    if (old_value && new_value && *old_value == *new_value) continue;
    std::string path = prefix.empty()                 ? key
                       : prefix.rfind("urn:", 0) == 0 ? prefix + ":" + key
                                                      : prefix + "." + key;
    bool both_objects = (old_value == nullptr || old_value->IsObject()) &&
                        (new_value == nullptr || new_value->IsObject());
    if (depth == 0 && both_objects) {
      DiffObjects(old_value, new_value, path, depth + 1, list, alloc);
    } else {
      AddChange(list, path, old_value, new_value, alloc);
    }
  }
}

json::Value MemberIds(const std::vector<Member>& members, json::Allocator& alloc) {
  json::Value ids(rapidjson::kArrayType);
  for (const Member& m : members) ids.PushBack(json::String(m.id, alloc), alloc);
  return ids;
}

}  // namespace

std::string AuditChanges(const json::Value* before, const json::Value* after, bool password_changed,
                         const MembershipDelta* members) {
  json::Document doc(rapidjson::kArrayType);
  auto& alloc = doc.GetAllocator();
  DiffObjects(before, after, "", 0, doc, alloc);
  if (password_changed) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("attribute", "password", alloc);
    item.AddMember("changed", true, alloc);
    doc.PushBack(item, alloc);
  }
  if (members != nullptr && (!members->empty() || members->replaced)) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("attribute", "members", alloc);
    item.AddMember("added", MemberIds(members->added, alloc), alloc);
    item.AddMember("removed", MemberIds(members->removed, alloc), alloc);
    doc.PushBack(item, alloc);
  }
  return json::Serialize(doc);
}

std::string OutboxPayload(soci::session& s, const std::string& tenant, const json::Value* resource,
                          const MembershipDelta* members) {
  return BuildPayload(s, tenant, resource, members, "");
}

}  // namespace scim::store
