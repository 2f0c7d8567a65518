#include "store/row_writes.h"

#include <algorithm>
#include <map>

#include "scim/common/strings.h"
#include "store/resource_counts.h"
#include "store/resource_rows.h"
#include "store/resource_writer.h"
#include "store/sql_util.h"

namespace scim::store {
namespace {

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
}  // namespace scim::store
