#include "scim/store/token_store.h"

#include <soci/soci.h>

namespace scim::store {
namespace {

constexpr const char* kColumns = "name, tenant, secret_hash, scopes, created, expires, revoked";

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
  return t;
}

}  // namespace

TokenStore::TokenStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

Status TokenStore::Create(const auth::TokenRecord& token) {
  return db_->WithSession([&](soci::session& s) -> Status {
    std::string scopes = auth::FormatScopes(token.scopes);
    std::string expires = token.expires.value_or("");
    soci::indicator expires_ind = token.expires ? soci::i_ok : soci::i_null;
    s << "INSERT INTO api_tokens (name, tenant, secret_hash, scopes, created, expires) "
         "VALUES (:n, :t, :h, :s, :c, :e)",
        soci::use(token.name, "n"), soci::use(token.tenant, "t"),
        soci::use(token.secret_hash, "h"), soci::use(scopes, "s"), soci::use(token.created, "c"),
        soci::use(expires, expires_ind, "e");
    return OkStatus();
  });
}

Result<std::vector<auth::TokenRecord>> TokenStore::List() {
  std::vector<auth::TokenRecord> tokens;
  Status status = db_->WithSession([&](soci::session& s) -> Status {
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT " << kColumns << " FROM api_tokens ORDER BY name");
    for (const soci::row& r : rows) tokens.push_back(FromRow(r));
    return OkStatus();
  });
  if (!status.ok()) return status.error();
  return tokens;
}

Status TokenStore::Revoke(const std::string& name, const std::string& now) {
  return db_->WithSession([&](soci::session& s) -> Status {
    soci::statement st = (s.prepare << "UPDATE api_tokens SET revoked = :r WHERE name = :n AND "
                                       "revoked IS NULL",
                          soci::use(now, "r"), soci::use(name, "n"));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      return Error(ErrorCode::kNotFound, "no active token named '" + name + "'");
    }
    return OkStatus();
  });
}

Result<std::optional<auth::TokenRecord>> TokenStore::FindByHash(const std::string& secret_hash) {
  std::optional<auth::TokenRecord> found;
  Status status = db_->WithSession([&](soci::session& s) -> Status {
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT " << kColumns << " FROM api_tokens WHERE secret_hash = :h",
         soci::use(secret_hash, "h"));
    for (const soci::row& r : rows) {
      auth::TokenRecord t = FromRow(r);
      if (auth::ConstantTimeEquals(t.secret_hash, secret_hash)) found = std::move(t);
    }
    return OkStatus();
  });
  if (!status.ok()) return status.error();
  return found;
}

}  // namespace scim::store
