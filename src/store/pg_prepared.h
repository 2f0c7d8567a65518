#pragma once
// Per-connection prepared statements on PostgreSQL (issue 12), through libpq's extended protocol
// (SQL EXECUTE takes no bound parameters): a statement is prepared once per connection and then
// costs one PQexecPrepared round trip per use, with no parse or plan (after five executions
// PostgreSQL keeps a generic plan). SOCI's own prepared statements cost a PREPARE, an EXECUTE and
// a DEALLOCATE per use.

#include <libpq-fe.h>
#include <soci/soci.h>

#include <string>
#include <string_view>
#include <vector>

namespace scim::store {

class BoundSql;

// A PGresult, cleared when this goes.
class PgResult {
 public:
  explicit PgResult(PGresult* res) : res_(res) {}
  PgResult(PgResult&& other) noexcept : res_(other.res_) { other.res_ = nullptr; }
  PgResult& operator=(PgResult&&) = delete;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult() {
    if (res_ != nullptr) PQclear(res_);
  }
  PGresult* get() const { return res_; }
  int rows() const { return PQntuples(res_); }
  int columns() const { return PQnfields(res_); }
  bool null(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }
  // Valid while this result lives.
  std::string_view text(int row, int col) const {
    return {PQgetvalue(res_, row, col), static_cast<size_t>(PQgetlength(res_, row, col))};
  }

 private:
  PGresult* res_;
};

// The libpq connection of a PostgreSQL session.
PGconn* PgConnOf(soci::session& s);

// The SQLSTATE of a failed result ("" when it has none).
std::string PgSqlState(const PGresult* res);

// Clears `res` and throws soci::postgresql_soci_error with the connection's message and the
// result's SQLSTATE (XX000 when it has none), as SOCI itself does.
[[noreturn]] void ThrowPgError(PGconn* conn, PGresult* res);

// PQprepare of `text` ($1..$n) as statement `name` on `conn`; a statement of that name already
// there (42P05) counts as prepared. Throws like ThrowPgError.
void PrepareStatement(PGconn* conn, const std::string& name, const std::string& text, int n);

// The text of `sql` with its positional placeholders (:b0, :b1, ...) as $1, $2, ...
std::string PositionalSql(const BoundSql& sql);

// Runs `body` ($1..$n placeholders, n = params.size(); a nullptr parameter is NULL) as the
// connection's prepared statement `name`, preparing it on a connection that has not yet. Every
// statement given the same name must have the same body. Throws soci::postgresql_soci_error (with
// the SQLSTATE) when the statement fails; inside a transaction the transaction is then aborted,
// as after any failed statement (a savepoint's rollback clears it).
PgResult ExecPrepared(soci::session& s, const std::string& name, const std::string& body,
                      const std::vector<const char*>& params);

// Forgets which statements `conn` has prepared (before it closes or reconnects: a connection
// made later at the same address must prepare them again).
void ForgetPrepared(const PGconn* conn);

// Runs `sql` ($1..$n placeholders) once: one PQexecParams round trip, parsed and planned by the
// server for this call only (for statements whose text varies, such as multi-row INSERTs).
// Throws like ExecPrepared.
PgResult ExecOnce(soci::session& s, const std::string& sql, const std::vector<const char*>& params);

}  // namespace scim::store
