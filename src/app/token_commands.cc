#include <chrono>
#include <iostream>

#include "app/commands.h"
#include "scim/auth/token.h"
#include "scim/common/clock.h"
#include "scim/store/database.h"
#include "scim/store/tenant_store.h"
#include "scim/store/token_store.h"

namespace scim::app {
namespace {

// Opens and migrates the database named on the command line.
Result<std::shared_ptr<store::Database>> OpenMigrated(const std::string& url) {
  SCIM_TRY(auto db, store::Database::Open(url, 1));
  SCIM_RETURN_IF_ERROR(db->Migrate());
  return db;
}

std::string ExpiryFromDays(int days) {
  return FormatTimestamp(std::chrono::system_clock::now() + std::chrono::hours(24) * days);
}

}  // namespace

int Fail(const std::string& message) {
  std::cerr << "scimd: " << message << std::endl;
  return 1;
}

int RunMigrate(const std::string& db_url) {
  auto db = OpenMigrated(db_url);
  if (!db.ok()) return Fail(db.error().detail);
  std::cout << "migrations applied" << std::endl;
  return 0;
}

int RunTokenCreate(const TokenCreateOptions& options) {
  auto scopes = auth::ParseScopes(options.scopes);
  if (!scopes.ok()) return Fail(scopes.error().detail);
  if (options.expires_days && *options.expires_days <= 0) {
    return Fail("--expires-days must be positive");
  }
  std::string tenant = options.tenant.empty() ? "default" : options.tenant;
  if (!store::ValidTenantName(tenant)) {
    return Fail("--tenant: a tenant name is 1 to 64 letters, digits, '.', '_' or '-'");
  }
  auto db = OpenMigrated(options.db);
  if (!db.ok()) return Fail(db.error().detail);
  // A missing tenant is created (product.md: `token create --tenant T` creates a missing tenant).
  auto made = store::TenantStore(*db).EnsureExists(tenant, NowTimestamp());
  if (!made.ok()) return Fail(made.error().detail);
  if (*made) AuditCli(**db, tenant, "tenant.create", "Tenant", tenant);
  auto secret = auth::GenerateTokenSecret();
  if (!secret.ok()) return Fail(secret.error().detail);
  auth::TokenRecord record;
  record.name = options.name;
  record.tenant = tenant;
  record.secret_hash = auth::HashTokenSecret(*secret);
  record.scopes = *scopes;
  record.created = NowTimestamp();
  if (options.expires_days) record.expires = ExpiryFromDays(*options.expires_days);
  Status created = store::TokenStore(*db).Create(record);
  if (!created.ok()) {
    return Fail(created.error().code == ErrorCode::kUniqueness
                    ? "a token named '" + options.name + "' already exists"
                    : created.error().detail);
  }
  AuditCli(**db, tenant, "token.create", "Token", options.name,
           "[{\"attribute\":\"scopes\",\"old\":null,\"new\":" +
               JsonQuote(auth::FormatScopes(record.scopes)) + "}]");
  std::cout << "token '" << options.name << "' created with scopes "
            << auth::FormatScopes(record.scopes) << "; the secret is shown once:" << std::endl;
  std::cout << *secret << std::endl;
  return 0;
}

int RunTokenList(const std::string& db_url) {
  auto db = OpenMigrated(db_url);
  if (!db.ok()) return Fail(db.error().detail);
  auto tokens = store::TokenStore(*db).List();
  if (!tokens.ok()) return Fail(tokens.error().detail);
  std::string now = NowTimestamp();
  for (const auth::TokenRecord& t : *tokens) {
    std::cout << t.name << "\ttenant=" << (t.tenant.empty() ? "default" : t.tenant)
              << "\tscopes=" << auth::FormatScopes(t.scopes) << "\tcreated=" << t.created
              << "\texpires=" << t.expires.value_or("never") << "\tstatus="
              << (t.revoked ? "revoked" : (auth::TokenUsable(t, now) ? "active" : "expired"))
              << std::endl;
  }
  return 0;
}

int RunTokenRevoke(const std::string& db_url, const std::string& name) {
  auto db = OpenMigrated(db_url);
  if (!db.ok()) return Fail(db.error().detail);
  store::TokenStore tokens(*db);
  std::string tenant;
  if (auto all = tokens.List(); all.ok()) {
    for (const auth::TokenRecord& t : *all) {
      if (t.name == name) tenant = t.tenant;
    }
  }
  Status revoked = tokens.Revoke(name, NowTimestamp());
  if (!revoked.ok()) return Fail(revoked.error().detail);
  AuditCli(**db, tenant, "token.revoke", "Token", name);
  std::cout << "token '" << name << "' revoked" << std::endl;
  return 0;
}

}  // namespace scim::app
