#include "store/pg_prepared.h"

#include <soci/postgresql/soci-postgresql.h>

#include <cctype>
#include <mutex>
#include <set>
#include <tuple>

#include "store/bound_sql.h"

namespace scim::store {
namespace {

// Which connections have prepared which statement, by connection and backend process: a
// connection made since at the same address (a reconnect) has a new backend and none. Should a
// statement still be missing (26000), it is prepared again and run once more when no transaction
// is open (inside one, the failure aborted it: the error goes to the caller).
std::mutex prepared_mu;
std::set<std::tuple<const void*, int, std::string>> prepared;

bool IsPrepared(const PGconn* conn, const std::string& name) {
  std::lock_guard<std::mutex> lock(prepared_mu);
  return prepared.count({conn, PQbackendPID(conn), name}) > 0;
}

void PrepareOn(PGconn* conn, const std::string& name, const std::string& body, int n) {
  PrepareStatement(conn, name, body, n);
  std::lock_guard<std::mutex> lock(prepared_mu);
  prepared.insert({conn, PQbackendPID(conn), name});
}

bool Succeeded(const PGresult* res) {
  ExecStatusType status = PQresultStatus(res);
  return status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
}

}  // namespace

std::string PgSqlState(const PGresult* res) {
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  return state == nullptr ? "" : state;
}

[[noreturn]] void ThrowPgError(PGconn* conn, PGresult* res) {
  std::string message = PQerrorMessage(conn);
  std::string state = PgSqlState(res);
  PQclear(res);
  throw soci::postgresql_soci_error(message, state.empty() ? "XX000" : state.c_str());
}

void PrepareStatement(PGconn* conn, const std::string& name, const std::string& text, int n) {
  PGresult* res = PQprepare(conn, name.c_str(), text.c_str(), n, nullptr);
  // 42P05 duplicate_prepared_statement: it is there already.
  if (PQresultStatus(res) != PGRES_COMMAND_OK && PgSqlState(res) != "42P05") {
    ThrowPgError(conn, res);
  }
  PQclear(res);
}

PGconn* PgConnOf(soci::session& s) {
  return static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
}

std::string PositionalSql(const BoundSql& sql) {
  const std::string& in = sql.sql();
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    bool placeholder = in[i] == ':' && i + 2 < in.size() && in[i + 1] == 'b' &&
                       std::isdigit(static_cast<unsigned char>(in[i + 2])) &&
                       (i == 0 || in[i - 1] != ':');
    if (!placeholder) {
      out.push_back(in[i]);
      continue;
    }
    size_t end = i + 2;
    unsigned long n = 0;
    while (end < in.size() && std::isdigit(static_cast<unsigned char>(in[end]))) {
      n = n * 10 + static_cast<unsigned long>(in[end] - '0');
      ++end;
    }
    out += "$" + std::to_string(n + 1);
    i = end - 1;
  }
  return out;
}

PgResult ExecPrepared(soci::session& s, const std::string& name, const std::string& body,
                      const std::vector<const char*>& params) {
  PGconn* conn = PgConnOf(s);
  int n = static_cast<int>(params.size());
  if (!IsPrepared(conn, name)) PrepareOn(conn, name, body, n);
  PGresult* res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
  if (!Succeeded(res) && PgSqlState(res) == "26000" && PQtransactionStatus(conn) == PQTRANS_IDLE) {
    PQclear(res);  // invalid_sql_statement_name: prepared no more
    PrepareOn(conn, name, body, n);
    res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
  }
  if (!Succeeded(res)) ThrowPgError(conn, res);
  return PgResult(res);
}

void ForgetPrepared(const PGconn* conn) {
  std::lock_guard<std::mutex> lock(prepared_mu);
  for (auto it = prepared.begin(); it != prepared.end();) {
    it = std::get<0>(*it) == conn ? prepared.erase(it) : std::next(it);
  }
}

PgResult ExecOnce(soci::session& s, const std::string& sql,
                  const std::vector<const char*>& params) {
  PGconn* conn = PgConnOf(s);
  PGresult* res = PQexecParams(conn, sql.c_str(), static_cast<int>(params.size()), nullptr,
                               params.data(), nullptr, nullptr, 0);
  if (!Succeeded(res)) ThrowPgError(conn, res);
  return PgResult(res);
}

}  // namespace scim::store
