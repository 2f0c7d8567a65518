#pragma once
// Hot write-path statements kept prepared per connection, on both databases (issue 11): on
// PostgreSQL the libpq prepared statements of pg_prepared.h (one round trip per use, no parse
// or plan); on SQLite the per-connection statements of sqlite_statement_cache.h, reset after each
// use (a /Bulk profile spent 18% (POST) to 29% (PUT) of scimd's CPU in sqlite3_prepare_v2 when
// every call prepared anew).
//
// Statements are written once with PostgreSQL's positional placeholders ($1, $2, ...; on SQLite
// they run as ?1, ?2, ...). Parameters and results travel as text; nullptr / nullopt is NULL.
// SQLite converts text parameters by column affinity (an INTEGER or REAL column stores a number),
// and compares them with a column under its numeric affinity.

#include <soci/soci.h>

#include <optional>
#include <string>
#include <vector>

#include "scim/store/database.h"

namespace scim::store {

// A parameter: text (nullptr: NULL), or a double (bound as a REAL on SQLite, whose own text to
// REAL conversion is not always correctly rounded; sent as shortest exact text to PostgreSQL), or
// an integer (bound as an INTEGER on SQLite, where a text value compares as text with an
// expression that has no column affinity, such as `+d.next_attempt_at`; decimal text to
// PostgreSQL).
struct SqlArg {
  const char* text = nullptr;
  std::optional<double> real;
  std::optional<long long> integer;
  SqlArg(const std::string& value) : text(value.c_str()) {}  // NOLINT: implicit on purpose
  SqlArg(const char* value) : text(value) {}                 // NOLINT
  SqlArg(std::nullptr_t) {}                                  // NOLINT
  static SqlArg Real(std::optional<double> value) {
    SqlArg arg(nullptr);
    arg.real = value;
    return arg;
  }
  static SqlArg Int(long long value) {
    SqlArg arg(nullptr);
    arg.integer = value;
    return arg;
  }
};

// Rows as text (a REAL column as exact text, "%.17g"); nullopt is NULL.
struct CachedRows {
  int columns = 0;
  std::vector<std::optional<std::string>> cells;  // row-major
  size_t size() const { return columns == 0 ? 0 : cells.size() / columns; }
  const std::optional<std::string>& at(size_t row, int col) const {
    return cells[row * columns + col];
  }
};

// Runs `sql` as the connection's statement `name` (every call with one name must pass the same
// text; on SQLite the statement cache of sqlite_statement_cache.h keys it by its text) and returns
// its rows. Throws soci::postgresql_soci_error / soci::sqlite3_soci_error
// (Database::ConvertError maps them) when the statement fails.
CachedRows RunCached(soci::session& s, Dialect dialect, const std::string& name,
                     const std::string& sql, const std::vector<SqlArg>& params);

// RunCached for a statement whose best plan depends on its parameters (the length of an id
// array): on PostgreSQL one PQexecParams round trip, planned for these values each time (a
// prepared statement may switch to a generic plan); on SQLite, whose plans do not depend on the
// values, the cached statement.
CachedRows RunPlannedPerCall(soci::session& s, Dialect dialect, const std::string& sql,
                             const std::vector<SqlArg>& params);

// Finalizes the SQLite statements cached for `s` (before the session closes).
void ForgetCachedStatements(soci::session& s);

}  // namespace scim::store
