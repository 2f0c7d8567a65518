#include "store/pg_statement_cache.h"

#include <soci/postgresql/soci-postgresql.h>

#include <list>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace scim::store {
namespace {

PGconn* ConnOf(soci::session& s) {
  return static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
}

std::string SqlState(const PGresult* res) {
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  return state == nullptr ? "" : state;
}

[[noreturn]] void Fail(PGconn* conn, PGresult* res) {
  std::string message = PQerrorMessage(conn);
  std::string state = SqlState(res);
  PQclear(res);
  throw soci::postgresql_soci_error(message, state.empty() ? "XX000" : state.c_str());
}

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

// The SQL with :b0, :b1, ... (BoundSql) as $1, $2, ...
std::string Numbered(const BoundSql& sql) {
  const std::string& in = sql.sql();
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == ':' && i + 2 < in.size() && in[i + 1] == 'b' &&
        std::isdigit(static_cast<unsigned char>(in[i + 2])) && (i == 0 || in[i - 1] != ':')) {
      size_t end = i + 2;
      unsigned long n = 0;
      while (end < in.size() && std::isdigit(static_cast<unsigned char>(in[end]))) {
        n = n * 10 + static_cast<unsigned long>(in[end] - '0');
        ++end;
      }
      out += "$" + std::to_string(n + 1);
      i = end - 1;
      continue;
    }
    out.push_back(in[i]);
  }
  return out;
}

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

void Prepare(PGconn* conn, const std::string& name, const std::string& text, int n) {
  PGresult* res = PQprepare(conn, name.c_str(), text.c_str(), n, nullptr);
  // 42P05 duplicate_prepared_statement: it is there already (names are never reused).
  if (PQresultStatus(res) != PGRES_COMMAND_OK && SqlState(res) != "42P05") Fail(conn, res);
  PQclear(res);
}

}  // namespace

PgResult RunCached(soci::session& s, const BoundSql& sql) {
  if (!sql.ok()) throw std::logic_error("unbound SQL parameter " + sql.missing());
  PGconn* conn = ConnOf(s);
  std::string text = Numbered(sql);
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
      if (plan == Plan::kPrepare) Prepare(conn, name, text, n);
    } catch (...) {
      Forget(conn, text);
      throw;
    }
    res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK && SqlState(res) == "26000") {
      PQclear(res);  // invalid_sql_statement_name: a connection made since
      Prepare(conn, name, text, n);
      res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
    }
  }
  if (PQresultStatus(res) != PGRES_TUPLES_OK) Fail(conn, res);
  return PgResult(res);
}

size_t CachedStatementCount(soci::session& s) {
  std::lock_guard<std::mutex> lock(cache_mu);
  auto it = cache.find(ConnOf(s));
  return it == cache.end() ? 0 : it->second.lru.size();
}

}  // namespace scim::store
