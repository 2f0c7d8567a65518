#include "store/cached_sql.h"

#include <cstdio>

#include "store/pg_prepared.h"
#include "store/pg_statement_cache.h"
#include "store/sqlite_statement_cache.h"

namespace scim::store {
namespace {

using namespace sqlite_api;  // SOCI includes sqlite3.h inside this namespace

std::string ExactText(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

[[noreturn]] void SqliteFail(sqlite3* db, int rc) {
  throw soci::sqlite3_soci_error(std::string("sqlite3: ") + sqlite3_errmsg(db), rc);
}

CachedRows RunSqlite(soci::session& s, const std::string& sql, const std::vector<SqlArg>& params) {
  sqlite3* db = static_cast<soci::sqlite3_session_backend*>(s.get_backend())->conn_;
  std::string text = sql;
  for (char& c : text) {
    if (c == '$') c = '?';  // $1 -> ?1 (no '$' elsewhere in these statements)
  }
  sqlite3_stmt* stmt = SqliteStatementFor(s, text);
  struct Reset {
    sqlite3_stmt* st;
    ~Reset() {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
    }
  } reset{stmt};
  for (size_t i = 0; i < params.size(); ++i) {
    int at = static_cast<int>(i + 1);
    int rc = params[i].real      ? sqlite3_bind_double(stmt, at, *params[i].real)
             : params[i].integer ? sqlite3_bind_int64(stmt, at, *params[i].integer)
             : params[i].text == nullptr
                 ? sqlite3_bind_null(stmt, at)
                 : sqlite3_bind_text(stmt, at, params[i].text, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) SqliteFail(db, rc);
  }
  CachedRows rows;
  rows.columns = sqlite3_column_count(stmt);
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) SqliteFail(db, rc);
    for (int c = 0; c < rows.columns; ++c) {
      int type = sqlite3_column_type(stmt, c);
      if (type == SQLITE_NULL) {
        rows.cells.emplace_back();
      } else if (type == SQLITE_FLOAT) {
        rows.cells.emplace_back(ExactText(sqlite3_column_double(stmt, c)));
      } else {
        const unsigned char* text = sqlite3_column_text(stmt, c);
        rows.cells.emplace_back(std::string(reinterpret_cast<const char*>(text),
                                            static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
      }
    }
  }
  return rows;
}

}  // namespace

CachedRows RunPlannedPerCall(soci::session& s, Dialect dialect, const std::string& sql,
                             const std::vector<SqlArg>& params) {
  return RunCached(s, dialect, "", sql, params);
}

CachedRows RunCached(soci::session& s, Dialect dialect, const std::string& name,
                     const std::string& sql, const std::vector<SqlArg>& params) {
  if (dialect == Dialect::kSqlite) return RunSqlite(s, sql, params);
  std::vector<std::string> reals;
  reals.reserve(params.size());  // no reallocation: texts points into it
  std::vector<const char*> texts;
  for (const SqlArg& arg : params) {
    if (arg.real || arg.integer) {
      reals.push_back(arg.real ? ExactText(*arg.real) : std::to_string(*arg.integer));
      texts.push_back(reals.back().c_str());
    } else {
      texts.push_back(arg.text);
    }
  }
  // No name: RunPlannedPerCall.
  PgResult res =
      name.empty() ? ExecOnce(s, sql, texts) : ExecPrepared(s, "scim_" + name, sql, texts);
  CachedRows rows;
  rows.columns = PQnfields(res.get());
  for (int r = 0; r < res.rows(); ++r) {
    for (int c = 0; c < rows.columns; ++c) {
      if (res.null(r, c)) {
        rows.cells.emplace_back();
      } else {
        rows.cells.emplace_back(std::string(res.text(r, c)));
      }
    }
  }
  return rows;
}

void ForgetCachedStatements(soci::session& s) {
  if (s.get_backend() == nullptr) return;
  if (s.get_backend_name() == "postgresql") {
    ForgetCachedQueries(PgConnOf(s));
    return ForgetPrepared(PgConnOf(s));
  }
  ForgetSqliteStatements(s);
}

}  // namespace scim::store
