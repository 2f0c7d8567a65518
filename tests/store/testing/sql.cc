#include "store/testing/sql.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "store/connection_url.h"

namespace scim::store::testing {
namespace {

Error Failed(const std::string& sql, const std::exception& e) {
  return Error(ErrorCode::kInternal, FirstLine(e.what()) + " in: " + sql);
}

// Runs `sql` on `s` with `params` bound in order and, when `into` is given, its first column of
// the first row into it. Returns whether a row came back.
template <class Into = std::nullptr_t>
bool Run(soci::session& s, const std::string& sql, std::vector<SqlParam> params,
         Into* into = nullptr, soci::indicator* ind = nullptr) {
  soci::statement st = (s.prepare << sql);
  for (SqlParam& p : params) {
    std::visit([&](auto& value) { st.exchange(soci::use(value)); }, p);
  }
  if constexpr (!std::is_same_v<Into, std::nullptr_t>) st.exchange(soci::into(*into, *ind));
  st.define_and_bind();
  return st.execute(true);
}

template <class T>
Result<std::optional<T>> QueryOne(Database& db, const std::string& sql,
                                  const std::vector<SqlParam>& params) {
  std::optional<T> out;
  SCIM_RETURN_IF_ERROR(db.WithSession([&](soci::session& s) -> Status {
    T value{};
    soci::indicator ind = soci::i_null;
    try {
      if (Run(s, sql, params, &value, &ind) && ind == soci::i_ok) out = value;
    } catch (const std::exception& e) {
      return Failed(sql, e);
    }
    return OkStatus();
  }));
  return out;
}

int64_t InsertOutbox(soci::session& s, Dialect dialect, const std::string& tenant,
                     const std::string& type, const std::string& id, const std::string& kind,
                     long long version) {
  std::string payload = kind == "deleted"
                            ? std::string("{}")
                            : "{\"resource\":{\"id\":\"" + id + "\",\"userName\":\"" + id + "\"}}";
  std::string created = "2026-01-01T00:00:00.000Z";
  const std::string insert =
      "INSERT INTO outbox (tenant, resource_type, resource_id, event, version, payload, created) "
      "VALUES (:t, :rt, :id, :ev, :v, :p, :c)";
  long long seq = 0;
  if (dialect == Dialect::kPostgres) {
    s << insert + " RETURNING seq", soci::use(tenant), soci::use(type), soci::use(id),
        soci::use(kind), soci::use(version), soci::use(payload), soci::use(created),
        soci::into(seq);
  } else {
    s << insert, soci::use(tenant), soci::use(type), soci::use(id), soci::use(kind),
        soci::use(version), soci::use(payload), soci::use(created);
    s << "SELECT last_insert_rowid()", soci::into(seq);
  }
  return seq;
}

}  // namespace

Status Exec(Database& db, const std::string& sql, const std::vector<SqlParam>& params) {
  return db.WithSession([&](soci::session& s) -> Status {
    try {
      Run(s, sql, params);
    } catch (const std::exception& e) {
      return Failed(sql, e);
    }
    return OkStatus();
  });
}

Result<std::optional<long long>> QueryInt(Database& db, const std::string& sql,
                                          const std::vector<SqlParam>& params) {
  return QueryOne<long long>(db, sql, params);
}

Result<std::optional<std::string>> QueryText(Database& db, const std::string& sql,
                                             const std::vector<SqlParam>& params) {
  return QueryOne<std::string>(db, sql, params);
}

Result<int64_t> InsertOutboxRow(Database& db, const std::string& tenant, const std::string& type,
                                const std::string& id, const std::string& kind, long long version) {
  int64_t seq = 0;
  SCIM_RETURN_IF_ERROR(db.InTransaction([&](soci::session& s) -> Status {
    seq = InsertOutbox(s, db.dialect(), tenant, type, id, kind, version);
    return OkStatus();
  }));
  return seq;
}

struct Connection::Session {
  Dialect dialect;
  soci::session session;
};

Connection::Connection(std::unique_ptr<Session> session) : session_(std::move(session)) {}

Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url) {
  SCIM_TRY(auto parsed, ParseConnectionUrl(url));
  auto session = std::make_unique<Session>();
  session->dialect = parsed.dialect;
  try {
    if (parsed.dialect == Dialect::kPostgres) {
      session->session.open(soci::postgresql, parsed.connect_string);
    } else {
      session->session.open(soci::sqlite3, parsed.connect_string);
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kUnavailable,
                 "cannot open " + parsed.redacted + ": " + FirstLine(e.what()));
  }
  return std::unique_ptr<Connection>(new Connection(std::move(session)));
}

Status Connection::Exec(const std::string& sql, const std::vector<SqlParam>& params) {
  try {
    Run(session_->session, sql, params);
  } catch (const std::exception& e) {
    return Failed(sql, e);
  }
  return OkStatus();
}

Result<int64_t> Connection::InsertOutboxRow(const std::string& tenant, const std::string& type,
                                            const std::string& id, const std::string& kind,
                                            long long version) {
  try {
    return InsertOutbox(session_->session, session_->dialect, tenant, type, id, kind, version);
  } catch (const std::exception& e) {
    return Failed("INSERT INTO outbox", e);
  }
}

}  // namespace scim::store::testing
