// ResourceStore::List: filtering, sorting and paging run in the database (RFC 7644 §3.4.2).

#include <map>
#include <optional>

#include "scim/common/strings.h"
#include "scim/store/resource_store.h"
#include "store/bound_sql.h"
#include "store/filter_sql.h"
#include "store/pg_statement_cache.h"
#include "store/resource_counts.h"
#include "store/resource_writer.h"
#include "store/sql_util.h"
#include "store/sqlite_statement_cache.h"

namespace scim::store {
namespace {

// The WHERE clause shared by the count and the page query.
Result<std::string> WhereClause(const ListQuery& query, Dialect dialect,
                                std::map<std::string, std::string>& params) {
  std::string where = "r.tenant = :tenant AND r.resource_type = :rtype";
  if (query.filter) {
    SCIM_TRY(auto compiled, CompileFilter(*query.filter, dialect));
    where += " AND (" + compiled.sql + ")";
    for (auto& [name, value] : compiled.params) params[name] = value;
  }
  return where;
}

// ORDER BY: the sort key (RFC 7644 §3.4.2.3), then the id so that the order is stable.
Result<std::string> OrderClause(const ListQuery& query, Dialect dialect,
                                std::map<std::string, std::string>& params) {
  const char* direction = query.descending ? " DESC" : " ASC";
  if (!query.sort_by) return std::string(" ORDER BY r.id") + direction;
  SCIM_TRY(auto key, CompileSortKey(*query.sort_by, dialect));
  for (auto& [name, value] : key.params) params[name] = value;
  return " ORDER BY " + SortTerm(key, query.descending) + ", r.id" + direction;
}

// How a session runs a read: PostgreSQL outside a transaction through the per-connection
// statement cache (pg_statement_cache.h), SQLite through its own (sqlite_statement_cache.h), else
// (PostgreSQL inside a transaction) as SOCI one-time queries.
struct ReadMode {
  bool cached = false;  // PostgreSQL, outside a transaction
  bool sqlite = false;
};

// Runs a `SELECT COUNT(*) ...` statement (one round trip).
Result<int64_t> CountRows(soci::session& s, ReadMode mode, const std::string& count_sql,
                          const std::map<std::string, std::string>& params) {
  BoundSql sql(count_sql, params);
  if (!sql.ok()) return Error(ErrorCode::kInternal, "unbound SQL parameter " + sql.missing());
  if (mode.cached) {
    PgResult res = RunCachedPg(s, sql);
    if (res.rows() != 1) return Error(ErrorCode::kInternal, "COUNT(*) without a row");
    return static_cast<int64_t>(std::stoll(std::string(res.text(0, 0))));
  }
  if (mode.sqlite) {
    long long total = 0;
    RunCachedSqlite(s, sql, [&](const SqliteRow& r) { total = r.integer(0); });
    return static_cast<int64_t>(total);
  }
  long long total = 0;
  sql.Once(s, soci::into(total));
  return static_cast<int64_t>(total);
}

// The rows of a page query (at most `limit`), with the related columns when selected (RowColumns'
// layout: 5 columns, or 7 for Users with groups and manager). PostgreSQL: in one round trip, a
// cached prepared statement, or inside a transaction a one-time query into vectors (a rowset would
// PREPARE, EXECUTE and DEALLOCATE). SQLite runs in-process: a rowset.
std::vector<StoredRow> FetchRows(soci::session& s, ReadMode mode, const BoundSql& sql,
                                 int64_t limit) {
  std::vector<StoredRow> rows;
  if (mode.cached) {
    PgResult res = RunCachedPg(s, sql);
    rows.reserve(static_cast<size_t>(res.rows()));
    for (int i = 0; i < res.rows(); ++i) rows.push_back(StoredRowOf(res, i));
    return rows;
  }
  if (mode.sqlite) {
    RunCachedSqlite(s, sql, [&](const SqliteRow& r) { rows.push_back(StoredRowOf(r)); });
    return rows;
  }
  // At least 2: a vector of 1 is not resized when no row comes back (SOCI 4.0.3, one-time query).
  size_t n = static_cast<size_t>(std::max<int64_t>(2, limit));
  std::vector<std::string> ids(n), data(n), created(n), modified(n);
  std::vector<long long> versions(n);
  sql.Once(s, soci::into(ids), soci::into(data), soci::into(created), soci::into(modified),
           soci::into(versions));
  rows.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    rows[i] = StoredRow{std::move(ids[i]), std::move(data[i]), std::move(created[i]),
                        std::move(modified[i]), versions[i]};
  }
  return rows;
}

// The select list of a User page's rows with what they show (RowColumns' layout, one statement
// per page, issue 12): each row's groups (`include_groups`, else NULL) and its manager's current
// name as sub-queries over the row's own id. Only for the rows of the page itself (OrderedPage's
// outer query), never for rows an OFFSET skips or a sort orders. On PostgreSQL r.id (collation
// "C") is compared under the default collation, so that group_members_member serves the look-up.
std::string RelatedPageColumns(Dialect dialect, bool include_groups) {
  bool pg = dialect == Dialect::kPostgres;
  std::string columns = "SELECT r.id, r.data, r.created, r.last_modified, r.version";
  std::string groups_from =
      std::string(
          " FROM group_members m JOIN resources g ON g.tenant = m.tenant AND g.id = "
          "m.group_id WHERE m.tenant = r.tenant AND m.member_id = ") +
      (pg ? "(r.id COLLATE \"default\"))" : "r.id)");
  if (!include_groups) {
    columns += ", NULL";
  } else if (pg) {
    columns +=
        ", (SELECT CAST(json_agg(json_build_array(m.group_id, COALESCE(g.display_name, ''))) AS "
        "TEXT)" +
        groups_from;
  } else {
    columns += ", (SELECT json_group_array(json_array(m.group_id, COALESCE(g.display_name, '')))" +
               groups_from;
  }
  const char* enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  std::string manager_id =
      pg ? std::string("(r.data -> '") + enterprise + "' -> 'manager' ->> 'value')"
         : std::string("(CASE WHEN json_valid(r.data) THEN json_extract(r.data, '$.\"") +
               enterprise + "\".manager.value') END)";
  columns +=
      ", (SELECT COALESCE(mg.display_name, mg.user_name) FROM resources mg WHERE "
      "mg.tenant = r.tenant AND mg.resource_type = 'User' AND mg.id = " +
      manager_id + ")";
  return columns;
}

// Pages through a sort the index gives (IndexedSort): the resources with a value in index order,
// then, ascending, the resources without one by id; descending is the exact reverse (RFC 7644
// §3.4.2.3: resources without data for sortBy come last ascending, first descending). Each part is
// one index range with LIMIT/OFFSET, so a page costs the same at 1,000 or 1,000,000 resources,
// where an ORDER BY on a correlated key sorted every matching resource.
class IndexedSortPager {
 public:
  IndexedSortPager(soci::session& s, ReadMode mode, std::string columns, const IndexedSort& sort,
                   const std::string& where, std::map<std::string, std::string> params,
                   bool descending, bool filtered)
      : s_(s),
        mode_(mode),
        columns_(std::move(columns)),
        sort_(sort),
        where_(where),
        params_(std::move(params)),
        direction_(descending ? " DESC" : " ASC"),
        descending_(descending),
        filtered_(filtered) {
    params_["spath"] = sort.path;
  }

  // Rows [offset, offset + count) of the whole order; `total` counts every matching resource.
  Result<std::vector<StoredRow>> Page(int64_t offset, int64_t count, int64_t total) {
    std::vector<StoredRow> rows;
    if (descending_) {
      SCIM_TRY(auto with, CountWithValues());
      int64_t without = total - with;
      if (offset < without) rows = WithoutValues(offset, count);
      Append(rows, WithValues(std::max<int64_t>(0, offset - without), count - Size(rows)));
      return rows;
    }
    rows = WithValues(offset, count);
    if (Size(rows) == count) return rows;
    int64_t with = 0;
    if (!rows.empty()) {
      with = offset + Size(rows);
    } else if (offset > 0) {
      SCIM_TRY(auto counted, CountWithValues());
      with = counted;
    }
    if (total > with)
      Append(rows, WithoutValues(std::max<int64_t>(0, offset - with), count - Size(rows)));
    return rows;
  }

 private:
  static int64_t Size(const std::vector<StoredRow>& rows) {
    return static_cast<int64_t>(rows.size());
  }

  static void Append(std::vector<StoredRow>& rows, std::vector<StoredRow> more) {
    for (auto& row : more) rows.push_back(std::move(row));
  }

  // attr_values rows (alias s) of the sort attribute that hold a value.
  std::string HasValue() const { return "s.path = :spath AND s." + sort_.column + " IS NOT NULL"; }

  // FROM/WHERE of the matching resources that have a value, joined to their attr_values row.
  std::string WithValuesFrom() const {
    return " FROM attr_values s JOIN resources r ON r.tenant = s.tenant AND r.id = s.resource_id "
           "WHERE s.tenant = :tenant AND s.resource_type = :rtype AND " +
           HasValue() + " AND " + where_;
  }

  std::vector<StoredRow> Run(const std::string& sql, int64_t limit) const {
    BoundSql bound(sql, params_);
    return FetchRows(s_, mode_, bound, limit);
  }

  std::vector<StoredRow> WithValues(int64_t offset, int64_t limit) const {
    if (limit <= 0) return {};
    std::string order = sort_.column + direction_ + ", s.resource_id" + direction_;
    if (filtered_) {
      return Run(columns_ + WithValuesFrom() + " ORDER BY s." + order + Window(offset, limit),
                 limit);
    }
    // Unfiltered: the page is cut from the index alone, then joined (a join first let SQLite
    // build a Bloom filter over every resource for a page of 100).
    return Run(
        columns_ + " FROM (SELECT s.resource_id, s." + sort_.column +
            " FROM attr_values s WHERE s.tenant = :tenant AND s.resource_type = :rtype AND " +
            HasValue() + " ORDER BY s." + order + Window(offset, limit) +
            ") s JOIN resources r ON r.tenant = :tenant AND r.id = s.resource_id WHERE " + where_ +
            " ORDER BY s." + order,
        limit);
  }

  std::vector<StoredRow> WithoutValues(int64_t offset, int64_t limit) const {
    if (limit <= 0) return {};
    return Run(columns_ + " FROM resources r WHERE " + where_ +
                   " AND NOT EXISTS (SELECT 1 FROM attr_values s WHERE s.tenant = r.tenant AND "
                   "s.resource_id = r.id AND " +
                   HasValue() + ") ORDER BY r.id" + direction_ + Window(offset, limit),
               limit);
  }

  // Without a filter the attr_values rows alone answer (they exist only for live resources).
  Result<int64_t> CountWithValues() const {
    if (filtered_) return CountRows(s_, mode_, "SELECT COUNT(*)" + WithValuesFrom(), params_);
    return CountRows(s_, mode_,
                     "SELECT COUNT(*) FROM attr_values s WHERE s.tenant = :tenant AND "
                     "s.resource_type = :rtype AND " +
                         HasValue(),
                     params_);
  }

  static std::string Window(int64_t offset, int64_t limit) {
    return " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
  }

  soci::session& s_;
  ReadMode mode_;
  std::string columns_;  // RowColumns
  const IndexedSort& sort_;
  const std::string& where_;
  std::map<std::string, std::string> params_;
  std::string direction_;
  bool descending_;
  bool filtered_;
};

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

// Whether `filter` matches at most one resource of a type: `userName eq` (resources_user_name is
// unique on the folded userName per tenant and type, and the compiled comparison always includes
// that column's equality) or `id eq` (the primary key).
bool MatchesAtMostOne(const filter::BoundFilter& filter) {
  const filter::BoundNode& node = filter.root;
  if (node.kind != filter::BoundNode::Kind::kCompare || node.op != filter::CompareOp::kEq ||
      node.value.type != filter::BoundValue::Type::kString || node.path.in_extension ||
      node.path.sub_attribute != nullptr || node.path.attribute == nullptr) {
    return false;
  }
  const std::string& name = node.path.attribute->name;
  return EqualsIgnoreCase(name, "userName") || EqualsIgnoreCase(name, "id");
}

// One page of the resources matching `where` in the order of `order` (an ORDER BY clause): at
// `offset`, or after the cursor's position. `related` (RelatedPageColumns): the page's ids are cut
// first and only their rows read with what they show, so the per-row sub-queries run for the
// page's rows alone; `single` (MatchesAtMostOne): at most one row matches, it is read at once.
Result<std::vector<StoredRow>> OrderedPage(soci::session& s, ReadMode mode,
                                           const std::string& columns,
                                           const std::optional<std::string>& related, bool single,
                                           std::string where, const std::string& order,
                                           std::map<std::string, std::string> params,
                                           const std::optional<CursorPosition>& position,
                                           const ListQuery& query, int64_t offset) {
  if (position) {
    where += query.descending ? " AND r.id < :after" : " AND r.id > :after";
    params["after"] = position->after;
  }
  // LIMIT and OFFSET stay literals: as parameters PostgreSQL's generic plan of a page costs more
  // than its custom plans (the limit unknown), so it planned every execution again.
  std::string limit = std::to_string(query.count);
  std::string skip = std::to_string(offset);
  std::string window = " LIMIT " + limit;
  if (!query.cursor) window += " OFFSET " + skip;
  std::string sql;
  // Unfiltered in id order from the first row or a cursor: the (tenant, resource_type, id) index
  // gives the page's rows in order and the LIMIT stops the walk at them, so the per-row
  // sub-queries run for the page's rows only without cutting the ids first.
  bool direct = single || (!query.filter && offset == 0 && !query.sort_by);
  if (related && direct) {
    sql = *related + " FROM resources r WHERE " + where + order + window;
  } else if (related) {
    sql = *related +
          " FROM resources r WHERE r.tenant = :tenant AND r.id IN (SELECT r.id FROM resources r "
          "WHERE " +
          where + order + window + ")" + order;
  } else if (!query.cursor && offset > 0 && !query.sort_by) {
    // A deep startIndex (RFC 7644 §3.4.2.4) in the default id order: OFFSET still walks `offset`
    // entries, but of the (tenant, resource_type, id) index only (index-only), and then reads
    // the page's rows by key; OFFSET on the full rows read every skipped row (deferred join).
    sql = columns +
          " FROM resources r WHERE r.tenant = :tenant AND r.id IN (SELECT r.id FROM resources r "
          "WHERE " +
          where + order + window + ")" + order;
  } else {
    sql = columns + " FROM resources r WHERE " + where + order + window;
  }
  BoundSql bound(sql, params);
  if (!bound.ok()) return Error(ErrorCode::kInternal, "unbound SQL parameter " + bound.missing());
  return FetchRows(s, mode, bound, query.count);
}

}  // namespace

Result<ListPage> ResourceStore::List(const std::string& tenant, const std::string& resource_type,
                                     const ListQuery& query) const {
  std::map<std::string, std::string> params{{"tenant", tenant}, {"rtype", resource_type}};
  SCIM_TRY(auto where, WhereClause(query, db_->dialect(), params));
  bool by_cursor = query.cursor.has_value();
  if (by_cursor && query.sort_by) {
    return Error(ErrorCode::kInvalidValue, "sortBy cannot be combined with cursor pagination");
  }
  std::optional<CursorPosition> position;
  if (by_cursor && !query.cursor->empty()) {
    SCIM_TRY(auto parsed, ParseCursor(*query.cursor));
    position = std::move(parsed);
  }
  std::optional<IndexedSort> indexed;
  if (query.sort_by) indexed = CompileIndexedSort(*query.sort_by);
  SCIM_TRY(auto order, OrderClause(query, db_->dialect(), params));
  ReadMode mode{db_->dialect() == Dialect::kPostgres && !db_->InTransactionHere(),
                db_->dialect() == Dialect::kSqlite};
  // A page of Users, filtered or not, reads its groups and managers' names in its own statement
  // (the page's ids cut first: the per-row sub-queries run for its rows alone, none an OFFSET
  // skips). An indexed sortBy pages in up to two parts (IndexedSortPager) and keeps the separate
  // look-ups.
  std::optional<std::string> related;
  if (resource_type == "User" && !indexed) {
    related = RelatedPageColumns(db_->dialect(), query.read.include_groups);
  }
  bool single = query.filter && MatchesAtMostOne(*query.filter);
  ListPage page;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    auto count_matches = [&]() {
      return CountRows(s, mode, "SELECT COUNT(*) FROM resources r WHERE " + where, params);
    };
    std::optional<int64_t> total;
    if (position) {
      total = position->total;
    } else if (!query.filter) {
      // Unfiltered (Okta and Entra ID imports page like this): the maintained counters, not a
      // COUNT(*) over every resource of the type (resource_counts.h).
      total = CountResources(s, tenant, resource_type);
    } else if (indexed || query.count <= 0) {
      SCIM_TRY(auto counted, count_matches());
      total = counted;
    }
    if (query.count <= 0) {
      page.total_results = *total;
      return OkStatus();
    }
    int64_t offset = by_cursor ? 0 : std::max<int64_t>(0, query.start_index - 1);
    // Groups and indexed sorts: not RowColumns with its per-row sub-queries (PostgreSQL would
    // evaluate them for the rows an OFFSET skips too); their related rows come in one statement
    // each (AssembleResources). Users otherwise read them with the page (`related`).
    std::string columns = RowColumns(db_->dialect(), "", false);
    SCIM_TRY(std::vector<StoredRow> rows,
             indexed ? IndexedSortPager(s, mode, columns, *indexed, where, params, query.descending,
                                        query.filter.has_value())
                           .Page(offset, query.count, *total)
                     : OrderedPage(s, mode, columns, related, single, where, order, params,
                                   position, query, offset));
    if (!total) {
      // A filtered list counts what matches (RFC 7644 §3.4.2.4, totalResults is exact), but a
      // page that is not full and holds the match at `offset` (or starts at the first) is the
      // last: its statement saw offset + rows matches, no more, and no COUNT(*) is needed.
      int64_t n = static_cast<int64_t>(rows.size());
      if (n < query.count && (n > 0 || offset == 0)) {
        total = offset + n;
      } else {
        SCIM_TRY(auto counted, count_matches());
        total = counted;
      }
    }
    page.total_results = *total;
    page.resources = AssembleResources(s, tenant, resource_type, rows, query.read.include_members,
                                       query.read.include_groups);
    if (by_cursor && static_cast<int64_t>(page.resources.size()) == query.count) {
      page.next_cursor = FormatCursor(page.resources.back()["id"].GetString(), page.total_results);
    }
    return OkStatus();
  }));
  return page;
}

}  // namespace scim::store
