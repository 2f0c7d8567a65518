#include "store/cached_sql.h"

#include <soci/sqlite3/soci-sqlite3.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "store/pg_prepared.h"

namespace scim::store {
namespace {

using namespace sqlite_api;  // SOCI includes sqlite3.h inside this namespace

// SQLite: each connection's statements by name. A connection is used by one thread at a time
// (a pool lease), so only the map of connections needs the mutex.
struct SqliteStatements {
  std::map<std::string, sqlite3_stmt*> by_name;
  ~SqliteStatements() {
    for (auto& [name, stmt] : by_name) sqlite3_finalize(stmt);
  }
};
std::mutex connections_mu;
std::map<sqlite3*, std::unique_ptr<SqliteStatements>> connections;

sqlite3* SqliteOf(soci::session& s) {
  return static_cast<soci::sqlite3_session_backend*>(s.get_backend())->conn_;
}

SqliteStatements& StatementsOf(sqlite3* db) {
  std::lock_guard<std::mutex> lock(connections_mu);
  auto& entry = connections[db];
  if (!entry) entry = std::make_unique<SqliteStatements>();
  return *entry;
}

std::string ExactText(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

[[noreturn]] void SqliteFail(sqlite3* db, int rc) {
  throw soci::sqlite3_soci_error(std::string("sqlite3: ") + sqlite3_errmsg(db), rc);
}

CachedRows RunSqlite(soci::session& s, const std::string& name, const std::string& sql,
                     const std::vector<SqlArg>& params) {
  sqlite3* db = SqliteOf(s);
  SqliteStatements& statements = StatementsOf(db);
  sqlite3_stmt*& stmt = statements.by_name[name];
  if (stmt == nullptr) {
    std::string text = sql;
    for (char& c : text) {
      if (c == '$') c = '?';  // $1 -> ?1 (no '$' elsewhere in these statements)
    }
    int rc = sqlite3_prepare_v3(db, text.c_str(), static_cast<int>(text.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      stmt = nullptr;
      SqliteFail(db, rc);
    }
  }
  struct Reset {
    sqlite3_stmt* st;
    ~Reset() {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
    }
  } reset{stmt};
  for (size_t i = 0; i < params.size(); ++i) {
    int at = static_cast<int>(i + 1);
    int rc = params[i].real ? sqlite3_bind_double(stmt, at, *params[i].real)
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

CachedRows RunCached(soci::session& s, Dialect dialect, const std::string& name,
                     const std::string& sql, const std::vector<SqlArg>& params) {
  if (dialect == Dialect::kSqlite) return RunSqlite(s, name, sql, params);
  std::vector<std::string> reals;
  reals.reserve(params.size());
  std::vector<const char*> texts;
  for (const SqlArg& arg : params) {
    if (arg.real) {
      reals.push_back(ExactText(*arg.real));
      texts.push_back(reals.back().c_str());
    } else {
      texts.push_back(arg.text);
    }
  }
  PgResult res = ExecPrepared(s, "scim_" + name, sql, texts);
  CachedRows rows;
  rows.columns = PQnfields(res.get());
  for (int r = 0; r < res.rows(); ++r) {
    for (int c = 0; c < rows.columns; ++c) {
      if (res.null(r, c)) {
        rows.cells.emplace_back();
      } else {
        rows.cells.emplace_back(res.text(r, c));
      }
    }
  }
  return rows;
}

void ForgetCachedStatements(soci::session& s) {
  if (s.get_backend() == nullptr) return;
  if (s.get_backend_name() == "postgresql") return ForgetPrepared(PgConnOf(s));
  std::unique_ptr<SqliteStatements> gone;
  std::lock_guard<std::mutex> lock(connections_mu);
  auto it = connections.find(SqliteOf(s));
  if (it == connections.end()) return;
  gone = std::move(it->second);
  connections.erase(it);
}

}  // namespace scim::store
