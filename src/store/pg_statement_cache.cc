#include "store/pg_statement_cache.h"

#include <soci/postgresql/soci-postgresql.h>

#include <list>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace scim::store {
namespace {

// One connection's statements: SQL text → name, most recently used first. Names are never reused
// for another text (the counter only grows), so a stale entry can only miss (26000), never run
// another statement.
struct ConnStatements {
  std::list<std::pair<std::string, std::string>> lru;  // (sql, name)
  std::unordered_map<std::string_view, std::list<std::pair<std::string, std::string>>::iterator>
      by_sql;
  std::unordered_set<std::string> seen_once;  // texts run once, not prepared yet
  unsigned long long next = 0;
};

// Connections are used by one thread at a time (the pool), but the map is shared.
std::mutex cache_mu;
std::unordered_map<const PGconn*, ConnStatements> cache;

enum class Plan { kOnce, kPrepare, kExecute };

// What to do with `text` on `conn`: the statement's name when it is (or is to be) prepared.
// `evicted` gets the name of a statement to deallocate.
Plan Lookup(const PGconn* conn, const std::string& text, std::string& name, std::string& evicted) {
  std::lock_guard<std::mutex> lock(cache_mu);
  ConnStatements& c = cache[conn];
  if (auto it = c.by_sql.find(text); it != c.by_sql.end()) {
    c.lru.splice(c.lru.begin(), c.lru, it->second);
    name = it->second->second;
    return Plan::kExecute;
  }
  if (c.seen_once.insert(text).second) {
    if (c.seen_once.size() > 4 * kMaxCachedStatements) {
      c.seen_once.clear();
      c.seen_once.insert(text);
    }
    return Plan::kOnce;
  }
  c.seen_once.erase(text);
  name = "scim_q" + std::to_string(c.next++);
  c.lru.emplace_front(text, name);
  c.by_sql[c.lru.front().first] = c.lru.begin();
  if (c.lru.size() > kMaxCachedStatements) {
    evicted = c.lru.back().second;
    c.by_sql.erase(c.lru.back().first);
    c.lru.pop_back();
  }
  return Plan::kPrepare;
}

void Forget(const PGconn* conn, const std::string& text) {
  std::lock_guard<std::mutex> lock(cache_mu);
  ConnStatements& c = cache[conn];
  auto it = c.by_sql.find(text);
  if (it == c.by_sql.end()) return;
  auto entry = it->second;
  c.by_sql.erase(it);
  c.lru.erase(entry);
}

}  // namespace

PgResult RunCachedPg(soci::session& s, const BoundSql& sql) {
  if (!sql.ok()) throw std::logic_error("unbound SQL parameter " + sql.missing());
  PGconn* conn = PgConnOf(s);
  std::string text = PositionalSql(sql);
  std::vector<const char*> params;
  for (const std::string& v : sql.ordered_values()) params.push_back(v.c_str());
  int n = static_cast<int>(params.size());
  std::string name, evicted;
  Plan plan = Lookup(conn, text, name, evicted);
  if (!evicted.empty()) {
    // Outside a transaction: a failure here (already gone with its connection) changes nothing.
    PQclear(PQexec(conn, ("DEALLOCATE " + evicted).c_str()));
  }
  PGresult* res = nullptr;
  if (plan == Plan::kOnce) {
    res = PQexecParams(conn, text.c_str(), n, nullptr, params.data(), nullptr, nullptr, 0);
  } else {
    try {
      if (plan == Plan::kPrepare) PrepareStatement(conn, name, text, n);
    } catch (...) {
      Forget(conn, text);
      throw;
    }
    res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PgSqlState(res) == "26000") {
      PQclear(res);  // invalid_sql_statement_name: a connection made since
      PrepareStatement(conn, name, text, n);
      res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
    }
  }
  if (PQresultStatus(res) != PGRES_TUPLES_OK) ThrowPgError(conn, res);
  return PgResult(res);
}

void ForgetCachedQueries(const PGconn* conn) {
  std::lock_guard<std::mutex> lock(cache_mu);
  cache.erase(conn);
}

size_t CachedStatementCount(soci::session& s) {
  std::lock_guard<std::mutex> lock(cache_mu);
  auto it = cache.find(PgConnOf(s));
  return it == cache.end() ? 0 : it->second.lru.size();
}

StoredRow StoredRowOf(const PgResult& res, int row) {
  auto text = [&](int col) { return std::string(res.text(row, col)); };
  StoredRow stored{text(0), text(1), text(2), text(3), std::stoll(text(4))};
  if (res.columns() >= 7) {
    stored.related = true;
    if (!res.null(row, 5)) stored.groups_json = text(5);
    if (!res.null(row, 6)) stored.manager_name = text(6);
  }
  return stored;
}

}  // namespace scim::store
