#include "store/pg_prepared.h"

#include <soci/postgresql/soci-postgresql.h>

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

void PrepareOn(PGconn* conn, const std::string& name, const std::string& body, int n) {
  PGresult* res = PQprepare(conn, name.c_str(), body.c_str(), n, nullptr);
  // 42P05 duplicate_prepared_statement: it is there already.
  if (PQresultStatus(res) != PGRES_COMMAND_OK && SqlState(res) != "42P05") Fail(conn, res);
  PQclear(res);
  std::lock_guard<std::mutex> lock(prepared_mu);
  prepared.insert({conn, PQbackendPID(conn), name});
}

bool Succeeded(const PGresult* res) {
  ExecStatusType status = PQresultStatus(res);
  return status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
}

}  // namespace

PGconn* PgConnOf(soci::session& s) {
  return static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
}

std::string PositionalSql(const BoundSql& sql) {
  std::string body = sql.sql();
  for (size_t i = sql.ordered_values().size(); i-- > 0;) {  // :b10 before :b1
    std::string placeholder = ":b" + std::to_string(i);
    for (size_t at = body.find(placeholder); at != std::string::npos;
         at = body.find(placeholder, at)) {
      body.replace(at, placeholder.size(), "$" + std::to_string(i + 1));
    }
  }
  return body;
}

PgResult ExecPrepared(soci::session& s, const std::string& name, const std::string& body,
                      const std::vector<const char*>& params) {
  PGconn* conn = PgConnOf(s);
  int n = static_cast<int>(params.size());
  if (!IsPrepared(conn, name)) PrepareOn(conn, name, body, n);
  PGresult* res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
  if (!Succeeded(res) && SqlState(res) == "26000" && PQtransactionStatus(conn) == PQTRANS_IDLE) {
    PQclear(res);  // invalid_sql_statement_name: prepared no more
    PrepareOn(conn, name, body, n);
    res = PQexecPrepared(conn, name.c_str(), n, params.data(), nullptr, nullptr, 0);
  }
  if (!Succeeded(res)) Fail(conn, res);
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
  if (!Succeeded(res)) Fail(conn, res);
  return PgResult(res);
}

}  // namespace scim::store
