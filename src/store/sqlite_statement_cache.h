#pragma once
// Per-connection prepared statements on SQLite (issue 12): a read's statement is compiled once per
// connection (sqlite3_prepare_v3 with SQLITE_PREPARE_PERSISTENT) and then reset, bound and stepped
// per read, where a SOCI statement parses, resolves and code-generates its SQL every time (the
// parser showed in the GET profile). Keyed by SQL text, a bounded LRU per connection. Internal to
// the store module.

#include <soci/soci.h>
// SOCI includes sqlite3.h inside namespace sqlite_api: every translation unit must see it there.
#include <soci/sqlite3/soci-sqlite3.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "store/bound_sql.h"
#include "store/resource_writer.h"

namespace scim::store {

namespace sq = ::sqlite_api;

// At most this many statements stay compiled per connection. The writer's session runs the write
// path's statements and, since the delivery engine's bookkeeping went through cached_sql.h, about
// 25 more (claims, outcomes, fan-out): 128 keeps both without evicting each other.
inline constexpr size_t kMaxCachedSqliteStatements = 128;

// One result row of a cached statement (valid during the callback only).
class SqliteRow {
 public:
  explicit SqliteRow(sq::sqlite3_stmt* stmt) : stmt_(stmt) {}
  int columns() const { return sq::sqlite3_column_count(stmt_); }
  bool null(int col) const { return sq::sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string_view text(int col) const {
    const unsigned char* p = sq::sqlite3_column_text(stmt_, col);
    return p == nullptr
               ? std::string_view()
               : std::string_view(reinterpret_cast<const char*>(p),
                                  static_cast<size_t>(sq::sqlite3_column_bytes(stmt_, col)));
  }
  long long integer(int col) const { return sq::sqlite3_column_int64(stmt_, col); }

 private:
  sq::sqlite3_stmt* stmt_;
};

// The connection's compiled statement for `sql` (?N or :name placeholders), compiled on first use
// and kept (least recently used beyond kMaxCachedSqliteStatements finalized). The caller resets it
// after use and runs no other cached statement on the connection meanwhile. Throws
// soci::sqlite3_soci_error when `sql` does not compile.
sq::sqlite3_stmt* SqliteStatementFor(soci::session& s, const std::string& sql);

// Runs `sql` (a query) on the SQLite session `s` as the connection's cached statement, calling
// `row` for each result row; the statement is reset afterwards (it holds no read transaction
// open). Throws soci::sqlite3_soci_error like SOCI does.
void RunCachedSqlite(soci::session& s, const BoundSql& sql,
                     const std::function<void(const SqliteRow&)>& row);

// A row selected with RowColumns (resource_writer.h): 5 columns, or 7 with the related ones.
StoredRow StoredRowOf(const SqliteRow& r);

// Finalizes the statements cached for the connection of `s`: to be called before the connection
// closes (sqlite3_close fails while statements remain).
void ForgetSqliteStatements(soci::session& s);

// How many statements are cached for the connection of `s` (tests).
size_t CachedSqliteStatementCount(soci::session& s);

}  // namespace scim::store
