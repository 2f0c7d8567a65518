#include "store/sqlite_statement_cache.h"

#include <list>
#include <mutex>
#include <unordered_map>

namespace scim::store {
namespace {

sq::sqlite3* ConnOf(soci::session& s) {
  return static_cast<soci::sqlite3_session_backend*>(s.get_backend())->conn_;
}

struct Cached {
  std::string sql;
  sq::sqlite3_stmt* stmt = nullptr;
};

// One connection's statements, most recently used first.
struct ConnStatements {
  std::list<Cached> lru;
  std::unordered_map<std::string_view, std::list<Cached>::iterator> by_sql;
};

// A connection is used by one thread at a time (the pool); the map is shared.
std::mutex cache_mu;
std::unordered_map<const sq::sqlite3*, ConnStatements> cache;

[[noreturn]] void Fail(sq::sqlite3* conn, int rc, const std::string& sql) {
  throw soci::sqlite3_soci_error(
      std::string("sqlite3 error ") + sq::sqlite3_errmsg(conn) + " while executing \"" + sql + "\"",
      rc);
}

// The connection's statement for `sql`, compiled on first use. The statement leaves the map only
// in Forget or when it is the least recently used of more than kMaxCachedSqliteStatements: a
// statement in use is the most recently used one, and only its own thread uses the connection.
sq::sqlite3_stmt* StatementFor(sq::sqlite3* conn, const std::string& sql) {
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    ConnStatements& c = cache[conn];
    if (auto it = c.by_sql.find(sql); it != c.by_sql.end()) {
      c.lru.splice(c.lru.begin(), c.lru, it->second);
      return it->second->stmt;
    }
  }
  sq::sqlite3_stmt* stmt = nullptr;
  int rc = sq::sqlite3_prepare_v3(conn, sql.c_str(), static_cast<int>(sql.size()) + 1,
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sq::sqlite3_finalize(stmt);
    Fail(conn, rc, sql);
  }
  sq::sqlite3_stmt* evicted = nullptr;
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    ConnStatements& c = cache[conn];
    c.lru.push_front(Cached{sql, stmt});
    c.by_sql[c.lru.front().sql] = c.lru.begin();
    if (c.lru.size() > kMaxCachedSqliteStatements) {
      evicted = c.lru.back().stmt;
      c.by_sql.erase(c.lru.back().sql);
      c.lru.pop_back();
    }
  }
  if (evicted != nullptr) sq::sqlite3_finalize(evicted);
  return stmt;
}

// Resets the statement (ends its read) and clears its bindings when it goes.
struct ResetOnExit {
  sq::sqlite3_stmt* stmt;
  ~ResetOnExit() {
    sq::sqlite3_reset(stmt);
    sq::sqlite3_clear_bindings(stmt);
  }
};

}  // namespace

sq::sqlite3_stmt* SqliteStatementFor(soci::session& s, const std::string& sql) {
  return StatementFor(ConnOf(s), sql);
}

void RunCachedSqlite(soci::session& s, const BoundSql& sql,
                     const std::function<void(const SqliteRow&)>& row) {
  if (!sql.ok()) throw std::logic_error("unbound SQL parameter " + sql.missing());
  sq::sqlite3* conn = ConnOf(s);
  sq::sqlite3_stmt* stmt = StatementFor(conn, sql.sql());
  ResetOnExit reset{stmt};
  const std::vector<std::string>& values = sql.ordered_values();
  // BoundSql names every placeholder once (:b0, :b1, ... in textual order): index i + 1.
  if (sq::sqlite3_bind_parameter_count(stmt) != static_cast<int>(values.size())) {
    throw std::logic_error("parameter count mismatch for " + sql.sql());
  }
  for (size_t i = 0; i < values.size(); ++i) {
    int rc = sq::sqlite3_bind_text(stmt, static_cast<int>(i) + 1, values[i].data(),
                                   static_cast<int>(values[i].size()),
                                   static_cast<sq::sqlite3_destructor_type>(nullptr));
    if (rc != SQLITE_OK) Fail(conn, rc, sql.sql());
  }
  SqliteRow current(stmt);
  for (;;) {
    int rc = sq::sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      row(current);
      continue;
    }
    if (rc == SQLITE_DONE) return;
    Fail(conn, rc, sql.sql());
  }
}

StoredRow StoredRowOf(const SqliteRow& r) {
  StoredRow row{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                std::string(r.text(3)), r.integer(4)};
  if (r.columns() >= 7) {
    row.related = true;
    if (!r.null(5)) row.groups_json = std::string(r.text(5));
    if (!r.null(6)) row.manager_name = std::string(r.text(6));
  }
  return row;
}

void ForgetSqliteStatements(soci::session& s) {
  if (s.get_backend() == nullptr) return;
  sq::sqlite3* conn = ConnOf(s);
  ConnStatements gone;
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    auto it = cache.find(conn);
    if (it == cache.end()) return;
    gone = std::move(it->second);
    cache.erase(it);
  }
  for (Cached& c : gone.lru) sq::sqlite3_finalize(c.stmt);
}

size_t CachedSqliteStatementCount(soci::session& s) {
  std::lock_guard<std::mutex> lock(cache_mu);
  auto it = cache.find(ConnOf(s));
  return it == cache.end() ? 0 : it->second.lru.size();
}

}  // namespace scim::store
