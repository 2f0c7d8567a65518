#include "scim/store/token_store.h"

#include <soci/soci.h>

#include <cstdlib>

#include "store/sql_util.h"

namespace scim::store {
namespace {

constexpr const char* kColumns =
    "name, tenant, secret_hash, scopes, created, expires, revoked, last_used, request_count, "
    "(SELECT COUNT(*) FROM tenants tn WHERE tn.name = api_tokens.tenant "
    "AND tn.disabled IS NOT NULL)";

auth::TokenRecord FromRow(const soci::row& r) {
  auth::TokenRecord t;
  t.name = r.get<std::string>(0);
  t.tenant = r.get<std::string>(1);
  t.secret_hash = r.get<std::string>(2);
  auto scopes = auth::ParseScopes(r.get<std::string>(3));
  if (scopes.ok()) t.scopes = *scopes;
  t.created = r.get<std::string>(4);
  if (r.get_indicator(5) == soci::i_ok) t.expires = r.get<std::string>(5);
  if (r.get_indicator(6) == soci::i_ok) t.revoked = r.get<std::string>(6);
  if (r.get_indicator(7) == soci::i_ok) t.last_used = r.get<std::string>(7);
  t.request_count = IntegerAt(r, 8);
  t.tenant_disabled = IntegerAt(r, 9) > 0;
  return t;
}

}  // namespace

TokenStore::TokenStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

Status TokenStore::Create(const auth::TokenRecord& token) {
  return db_->WithSession([&](soci::session& s) -> Status {
    std::string scopes = auth::FormatScopes(token.scopes);
    std::string tenant = token.tenant.empty() ? "default" : token.tenant;
    std::string expires = token.expires.value_or("");
    soci::indicator expires_ind = token.expires ? soci::i_ok : soci::i_null;
    s << "INSERT INTO api_tokens (name, tenant, secret_hash, scopes, created, expires) "
         "VALUES (:n, :t, :h, :s, :c, :e)",
        soci::use(token.name, "n"), soci::use(tenant, "t"), soci::use(token.secret_hash, "h"),
        soci::use(scopes, "s"), soci::use(token.created, "c"), soci::use(expires, expires_ind, "e");
    return OkStatus();
  });
}

Result<std::vector<auth::TokenRecord>> TokenStore::List(const std::optional<std::string>& tenant) {
  std::vector<auth::TokenRecord> tokens;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    tokens.clear();
    if (tenant) {
      soci::rowset<soci::row> rows =
          (s.prepare << "SELECT " << kColumns << " FROM api_tokens WHERE tenant = :t ORDER BY name",
           soci::use(*tenant, "t"));
      for (const soci::row& r : rows) tokens.push_back(FromRow(r));
    } else {
      soci::rowset<soci::row> rows =
          (s.prepare << "SELECT " << kColumns << " FROM api_tokens ORDER BY name");
      for (const soci::row& r : rows) tokens.push_back(FromRow(r));
    }
    return OkStatus();
  }));
  return tokens;
}

Status TokenStore::Revoke(const std::string& name, const std::string& now,
                          const std::optional<std::string>& tenant) {
  return db_->WithSession([&](soci::session& s) -> Status {
    soci::statement st = (s.prepare << "UPDATE api_tokens SET revoked = :r WHERE name = :n AND "
                                       "revoked IS NULL" +
                                           std::string(tenant ? " AND tenant = :t" : ""));
    st.exchange(soci::use(now, "r"));
    st.exchange(soci::use(name, "n"));
    if (tenant) st.exchange(soci::use(*tenant, "t"));
    st.define_and_bind();
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      return Error(ErrorCode::kNotFound, "no active token named '" + name + "'");
    }
    return OkStatus();
  });
}

Status TokenStore::AddUsage(const std::vector<Usage>& usage) {
  if (usage.empty()) return OkStatus();
  return db_->InTransaction([&](soci::session& s) -> Status {
    for (const Usage& u : usage) {
      long long n = u.requests;
      s << "UPDATE api_tokens SET request_count = request_count + :c WHERE name = :n",
          soci::use(n, "c"), soci::use(u.name, "n");
      s << "UPDATE api_tokens SET last_used = :u WHERE name = :n "
           "AND (last_used IS NULL OR last_used < :u2)",
          soci::use(u.last_used, "u"), soci::use(u.name, "n"), soci::use(u.last_used, "u2");
    }
    return OkStatus();
  });
}

Result<std::optional<auth::TokenRecord>> TokenStore::FindByHash(const std::string& secret_hash) {
  std::optional<auth::TokenRecord> found;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT " << kColumns << " FROM api_tokens WHERE secret_hash = :h",
         soci::use(secret_hash, "h"));
    for (const soci::row& r : rows) {
      auth::TokenRecord t = FromRow(r);
      if (auth::ConstantTimeEquals(t.secret_hash, secret_hash)) found = std::move(t);
    }
    return OkStatus();
  }));
  return found;
}

}  // namespace scim::store
