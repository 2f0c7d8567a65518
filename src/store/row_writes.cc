#include "store/row_writes.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "scim/common/strings.h"
#include "store/cached_sql.h"
#include "store/resource_counts.h"
#include "store/resource_rows.h"
#include "store/resource_writer.h"
#include "store/sql_util.h"

namespace scim::store {
namespace {

// PostgreSQL: attr_values rows as one JSON parameter, read back with kAttrRowsFrom.
std::string AttrRowsJson(const std::vector<AttrValueRow>& rows) {
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
  return json::Serialize(list);
}

// The rows of AttrRowsJson as a relation x (p, o, v, l, f, n), `param` naming the parameter.
std::string AttrRowsFrom(const std::string& param) {
  return "json_to_recordset(CAST(" + param +
         " AS json)) AS x(p text, o integer, v text, l text, f text, n double precision)";
}

constexpr const char* kAttrColumns =
    "attr_values (tenant, resource_type, resource_id, path, ord, value, value_lc, "
    "value_lc_full, num)";

// PostgreSQL: every row in one statement (one round trip instead of one per row plus the
// prepare and deallocate), the rows travelling as one JSON parameter.
void InsertAttrValuesAtOnce(soci::session& s, const std::string& tenant, const std::string& type,
                            const std::string& id, const std::vector<AttrValueRow>& rows) {
  std::string encoded = AttrRowsJson(rows);
  RunCached(s, Dialect::kPostgres, "av_insert_json",
            "INSERT INTO attr_values (tenant, resource_type, resource_id, path, ord, value, "
            "value_lc, value_lc_full, num) SELECT $1, $2, $3, x.p, x.o, x.v, x.l, x.f, x.n FROM "
            "json_to_recordset(CAST($4 AS json)) AS x(p text, o integer, v text, l text, f text, "
            "n double precision)",
            {tenant, type, id, encoded});
}

void InsertAttrValues(soci::session& s, Dialect dialect, const std::string& tenant,
                      const std::string& type, const std::string& id,
                      const std::vector<AttrValueRow>& rows) {
  if (rows.empty()) return;
  if (dialect == Dialect::kPostgres) return InsertAttrValuesAtOnce(s, tenant, type, id, rows);
  // SQLite: one cached statement run per row (in-process: no round trips to save).
  for (const AttrValueRow& r : rows) {
    std::string ord = std::to_string(r.ord);
    RunCached(s, Dialect::kSqlite, "av_insert",
              "INSERT INTO attr_values (tenant, resource_type, resource_id, path, ord, value, "
              "value_lc, value_lc_full, num) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
              {tenant, type, id, r.path, ord, r.value, r.value_lc,
               r.value_lc_full ? SqlArg(*r.value_lc_full) : SqlArg(nullptr), SqlArg::Real(r.num)});
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

std::vector<AttrValueRow> LoadAttrValueRows(soci::session& s, Dialect dialect,
                                            const std::string& tenant, const std::string& id) {
  std::vector<AttrValueRow> rows;
  CachedRows result = RunCached(s, dialect, "av_load",
                                "SELECT path, ord, value, value_lc, num, value_lc_full FROM "
                                "attr_values WHERE tenant = $1 AND resource_id = $2 ORDER BY "
                                "path, ord",
                                {tenant, id});
  for (size_t i = 0; i < result.size(); ++i) {
    AttrValueRow row;
    row.path = result.at(i, 0).value_or("");
    row.ord = std::atoi(result.at(i, 1).value_or("0").c_str());
    row.value = result.at(i, 2).value_or("");
    row.value_lc = result.at(i, 3).value_or("");
    if (result.at(i, 4)) row.num = std::strtod(result.at(i, 4)->c_str(), nullptr);
    row.value_lc_full = result.at(i, 5);
    rows.push_back(std::move(row));
  }
  return rows;
}

// What a replace changes of a resource's attr_values rows: only the (path, ord) groups whose
// values changed are deleted and inserted anew, so a PUT that changes one attribute (an HR
// re-run) touches one or two rows and their index entries instead of every row.
struct AttrChanges {
  std::vector<std::pair<std::string, int>> drops;  // (path, ord) groups to delete
  std::vector<AttrValueRow> inserts;
};

// `stored`: the rows read with the locked row (ReadRow), else they are read here.
AttrChanges DiffAttrValues(soci::session& s, Dialect dialect, const std::string& tenant,
                           const std::string& id, const std::vector<AttrValueRow>& fresh,
                           const std::optional<std::vector<AttrValueRow>>& stored) {
  RowGroups before = GroupRows(stored ? *stored : LoadAttrValueRows(s, dialect, tenant, id));
  RowGroups after = GroupRows(fresh);
  AttrChanges changes;
  for (const auto& [key, rows] : before) {
    auto now = after.find(key);
    if (now != after.end() && SameRows(rows, now->second)) continue;
    changes.drops.push_back(key);
  }
  for (const auto& [key, rows] : after) {
    auto then = before.find(key);
    if (then != before.end() && SameRows(rows, then->second)) continue;
    changes.inserts.insert(changes.inserts.end(), rows.begin(), rows.end());
  }
  return changes;
}

// SQLite: one cached statement per deleted group and inserted row (in-process: no round trips).
void ReplaceAttrValues(soci::session& s, const std::string& tenant, const std::string& type,
                       const std::string& id, const AttrChanges& changes) {
  for (const auto& [path, ord] : changes.drops) {
    std::string ord_text = std::to_string(ord);
    RunCached(s, Dialect::kSqlite, "av_drop",
              "DELETE FROM attr_values WHERE tenant = $1 AND resource_id = $2 AND path = $3 AND "
              "ord = $4",
              {tenant, id, path, ord_text});
  }
  InsertAttrValues(s, Dialect::kSqlite, tenant, type, id, changes.inserts);
}

// The (path, ord) keys of `drops` as a JSON array of {"p":..., "o":...}.
std::string DropKeysJson(const std::vector<std::pair<std::string, int>>& drops) {
  json::Document list(rapidjson::kArrayType);
  auto& alloc = list.GetAllocator();
  for (const auto& [path, ord] : drops) {
    json::Value key(rapidjson::kObjectType);
    key.AddMember("p", json::String(path, alloc), alloc);
    key.AddMember("o", ord, alloc);
    list.PushBack(key, alloc);
  }
  return json::Serialize(list);
}

}  // namespace

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
  NullableString password(password_hash);
  std::string data = StoredData(resource);
  std::string version = std::to_string(row.version);
  std::string active_text = c.active ? std::to_string(*c.active) : "";
  auto arg = [](const NullableString& v) {
    return v.ind == soci::i_ok ? SqlArg(v.value) : SqlArg(nullptr);
  };
  SqlArg active_arg = c.active ? SqlArg(active_text) : SqlArg(nullptr);
  std::string json = dialect == Dialect::kPostgres ? "CAST($14 AS JSONB)" : "$14";
  std::vector<AttrValueRow> fresh = ExtractAttrValues(registry, type, resource);
  if (dialect == Dialect::kPostgres) {
    // One round trip for the resource row and its attr_values rows: the row's statement is a
    // data-modifying WITH of the attr_values INSERT (its sub-statements all run, on one
    // snapshot: the DELETE sees only the rows from before, not the ones inserted).
    if (insert) {
      std::string rows = AttrRowsJson(fresh);
      RunCached(s, dialect, "res_av_insert",
                "WITH r AS (INSERT INTO resources (tenant, id, resource_type, user_name, "
                "user_name_lc, external_id, display_name, display_name_lc, active, created, "
                "last_modified, version, password_hash, data) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                "$8, $9, $10, $11, $12, $13, CAST($14 AS JSONB))) INSERT INTO " +
                    std::string(kAttrColumns) +
                    " SELECT $1, $3, $2, x.p, x.o, x.v, x.l, x.f, x.n FROM " + AttrRowsFrom("$15"),
                {tenant, row.id, type.name, arg(user_name), arg(user_lc), arg(external_id),
                 arg(display), arg(display_lc), active_arg, row.created, row.last_modified, version,
                 arg(password), data, rows});
      AdjustResourceCount(s, dialect, tenant, type.name, +1);
      return;
    }
    // The stored rows (read with the locked row, else here), then the row, the deletes and the
    // inserts in one statement.
    AttrChanges changes = DiffAttrValues(s, dialect, tenant, row.id, fresh, row.attr_values);
    std::string drops = DropKeysJson(changes.drops);
    std::string inserts = AttrRowsJson(changes.inserts);
    RunCached(s, dialect, "res_av_update",
              "WITH u AS (UPDATE resources SET user_name = $3, user_name_lc = $4, external_id = "
              "$5, display_name = $6, display_name_lc = $7, active = $8, created = $9, "
              "last_modified = $10, version = $11, password_hash = COALESCE($12, password_hash), "
              "data = CAST($13 AS JSONB) WHERE tenant = $1 AND id = $2), d AS (DELETE FROM "
              "attr_values a USING json_to_recordset(CAST($14 AS json)) AS k(p text, o integer) "
              "WHERE a.tenant = $1 AND a.resource_id = $2 AND a.path = k.p AND a.ord = k.o) "
              "INSERT INTO " +
                  std::string(kAttrColumns) +
                  " SELECT $1, $16, $2, x.p, x.o, x.v, x.l, x.f, x.n FROM " + AttrRowsFrom("$15"),
              {tenant, row.id, arg(user_name), arg(user_lc), arg(external_id), arg(display),
               arg(display_lc), active_arg, row.created, row.last_modified, version, arg(password),
               data, drops, inserts, type.name});
    return;
  }
  // SQLite, kept prepared per connection (cached_sql.h): in-process, no round trips to save.
  if (insert) {
    RunCached(s, dialect, "res_insert",
              "INSERT INTO resources (tenant, id, resource_type, user_name, user_name_lc, "
              "external_id, display_name, display_name_lc, active, created, last_modified, "
              "version, password_hash, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
              "$11, $12, $13, " +
                  json + ")",
              {tenant, row.id, type.name, arg(user_name), arg(user_lc), arg(external_id),
               arg(display), arg(display_lc), active_arg, row.created, row.last_modified, version,
               arg(password), data});
  } else {
    // By primary key only (see ReadRow): the caller read the row of this type under its lock.
    std::string update_json = dialect == Dialect::kPostgres ? "CAST($13 AS JSONB)" : "$13";
    RunCached(s, dialect, "res_update",
              "UPDATE resources SET user_name = $3, user_name_lc = $4, external_id = $5, "
              "display_name = $6, display_name_lc = $7, active = $8, created = $9, "
              "last_modified = $10, version = $11, password_hash = COALESCE($12, password_hash), "
              "data = " +
                  update_json + " WHERE tenant = $1 AND id = $2",
              {tenant, row.id, arg(user_name), arg(user_lc), arg(external_id), arg(display),
               arg(display_lc), active_arg, row.created, row.last_modified, version, arg(password),
               data});
  }
  if (insert) {
    InsertAttrValues(s, dialect, tenant, type.name, row.id, fresh);
    AdjustResourceCount(s, dialect, tenant, type.name, +1);
  } else {
    ReplaceAttrValues(s, tenant, type.name, row.id,
                      DiffAttrValues(s, dialect, tenant, row.id, fresh, row.attr_values));
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
}  // namespace scim::store
