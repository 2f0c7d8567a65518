// ResourceStore::List: filtering, sorting and paging run in the database (RFC 7644 §3.4.2).

#include <map>
#include <optional>

#include "scim/store/resource_store.h"
#include "store/bound_sql.h"
#include "store/filter_sql.h"
#include "store/resource_writer.h"

namespace scim::store {
namespace {

// The WHERE clause shared by the count and the page query.
Result<std::string> WhereClause(const ListQuery& query, Dialect dialect,
                                std::map<std::string, std::string>& params) {
  std::string where = "r.tenant = :tenant AND r.resource_type = :rtype";
  if (query.filter) {
    auto compiled = CompileFilter(*query.filter, dialect);
    if (!compiled.ok()) return compiled.error();
    where += " AND (" + compiled->sql + ")";
    for (auto& [name, value] : compiled->params) params[name] = value;
  }
  return where;
}

// ORDER BY: the sort key (RFC 7644 §3.4.2.3), then the id so that the order is stable.
Result<std::string> OrderClause(const ListQuery& query, Dialect dialect,
                                std::map<std::string, std::string>& params) {
  const char* direction = query.descending ? " DESC" : " ASC";
  if (!query.sort_by) return std::string(" ORDER BY r.id") + direction;
  auto key = CompileSortKey(*query.sort_by, dialect);
  if (!key.ok()) return key.error();
  for (auto& [name, value] : key->params) params[name] = value;
  return " ORDER BY " + SortTerm(*key, query.descending) + ", r.id" + direction;
}

Result<int64_t> CountMatches(soci::session& s, const std::string& where,
                             const std::map<std::string, std::string>& params) {
  BoundSql sql("SELECT COUNT(*) FROM resources r WHERE " + where, params);
  if (!sql.ok()) return Error(ErrorCode::kInternal, "unbound SQL parameter " + sql.missing());
  long long total = 0;
  soci::details::prepare_temp_type prepared = sql.Prepare(s);
  prepared, soci::into(total);
  soci::statement st(prepared);
  st.execute(true);
  return static_cast<int64_t>(total);
}

// An integer column: SOCI reports INTEGER as int on SQLite and BIGINT as long long on PostgreSQL.
long long RowInt64(const soci::row& r, size_t i) {
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return r.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double:
      return static_cast<long long>(r.get<double>(i));
    default:
      return std::stoll(r.get<std::string>(i));
  }
}

std::vector<StoredRow> FetchRows(soci::session& s, const BoundSql& sql) {
  std::vector<StoredRow> rows;
  soci::rowset<soci::row> rs(sql.Prepare(s));
  for (const soci::row& r : rs) {
    StoredRow row;
    row.id = r.get<std::string>(0);
    row.data = r.get<std::string>(1);
    row.created = r.get<std::string>(2);
    row.last_modified = r.get<std::string>(3);
    row.version = RowInt64(r, 4);
    rows.push_back(std::move(row));
  }
  return rows;
}

// A cursor (opaque to clients, RFC 9865 §2) is "<last id>.<total>": the id the next page starts
// after, and totalResults as counted on the walk's first page. Later pages reuse that count, so
// each page costs the same however many resources match (a walk reports the total of its start).
struct CursorPosition {
  std::string after;
  int64_t total = 0;
};

std::string FormatCursor(const std::string& after, int64_t total) {
  return after + "." + std::to_string(total);
}

Result<CursorPosition> ParseCursor(const std::string& cursor) {
  Error invalid(ErrorCode::kInvalidCursor, "invalid cursor");
  size_t dot = cursor.rfind('.');
  if (cursor.size() > 84 || dot == std::string::npos || dot == 0 || dot + 1 == cursor.size() ||
      cursor.size() - dot - 1 > 18) {
    return invalid;
  }
  CursorPosition position{cursor.substr(0, dot), 0};
  for (char c : position.after) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '-') return invalid;
  }
  for (char c : cursor.substr(dot + 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return invalid;
    position.total = position.total * 10 + (c - '0');
  }
  return position;
}

}  // namespace

Result<ListPage> ResourceStore::List(const std::string& tenant, const std::string& resource_type,
                                     const ListQuery& query) const {
  std::map<std::string, std::string> params{{"tenant", tenant}, {"rtype", resource_type}};
  auto where = WhereClause(query, db_->dialect(), params);
  if (!where.ok()) return where.error();
  bool by_cursor = query.cursor.has_value();
  if (by_cursor && query.sort_by) {
    return Error(ErrorCode::kInvalidValue, "sortBy cannot be combined with cursor pagination");
  }
  std::optional<CursorPosition> position;
  if (by_cursor && !query.cursor->empty()) {
    auto parsed = ParseCursor(*query.cursor);
    if (!parsed.ok()) return parsed.error();
    position = std::move(parsed).value();
  }
  auto order = OrderClause(query, db_->dialect(), params);
  if (!order.ok()) return order.error();
  ListPage page;
  Status status = db_->WithSession([&](soci::session& s) -> Status {
    if (position) {
      page.total_results = position->total;
    } else {
      auto total = CountMatches(s, *where, params);
      if (!total.ok()) return total.error();
      page.total_results = *total;
    }
    if (query.count <= 0) return OkStatus();
    std::string page_where = *where;
    if (position) {
      page_where += query.descending ? " AND r.id < :after" : " AND r.id > :after";
      params["after"] = position->after;
    }
    std::string limit = " LIMIT " + std::to_string(query.count);
    if (!by_cursor)
      limit += " OFFSET " + std::to_string(std::max<int64_t>(0, query.start_index - 1));
    BoundSql sql(
        "SELECT r.id, r.data, r.created, r.last_modified, r.version FROM resources r "
        "WHERE " +
            page_where + *order + limit,
        params);
    if (!sql.ok()) return Error(ErrorCode::kInternal, "unbound SQL parameter " + sql.missing());
    for (const StoredRow& row : FetchRows(s, sql)) {
      page.resources.push_back(AssembleResource(
          s, tenant, resource_type, row, query.read.include_members, query.read.include_groups));
    }
    if (by_cursor && static_cast<int64_t>(page.resources.size()) == query.count) {
      page.next_cursor = FormatCursor(page.resources.back()["id"].GetString(), page.total_results);
    }
    return OkStatus();
  });
  if (!status.ok()) return status.error();
  return page;
}

}  // namespace scim::store
