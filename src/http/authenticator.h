#pragma once
// Bearer-token authentication (product.md "Auth"): the secret's SHA-256 is looked up in the
// token table through a per-process store::TokenCache (a token read less than 500 ms ago is not
// read again, so revocations and tenant disables made by other processes take effect within
// about 0.5 s); revoked or expired tokens are rejected; scopes decide what a request may do.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "http/exchange.h"
#include "scim/auth/token.h"
#include "scim/common/result.h"
#include "scim/store/token_cache.h"
#include "scim/store/token_store.h"

namespace scim::http {

// The caller of an authenticated request.
struct Caller {
  std::string tenant;  // "default" when the token has none
  std::string actor;   // token name
  std::set<auth::Scope> scopes;
  bool Has(auth::Scope scope) const { return scopes.count(scope) > 0; }
  // The operator acts across tenants on the admin API.
  bool IsOperator() const { return Has(auth::Scope::kOperator); }
};

class Authenticator {
 public:
  explicit Authenticator(std::shared_ptr<store::TokenStore> tokens);
  // Writes back the usage still counted in memory.
  ~Authenticator();

  // kUnauthorized without a valid bearer token; kForbidden when it lacks `required`. `operator`
  // satisfies a required `admin` (it is the cross-tenant admin).
  // Every authenticated request counts towards its token's usage (request count, last used),
  // kept in memory and written back at most every kUsageFlushInterval, or by FlushUsage().
  Result<Caller> Authenticate(const HttpRequest& request, auth::Scope required) const;

  // Writes the usage counted so far to the token table (before listing tokens, at shutdown).
  void FlushUsage() const;

  // Forgets the cached tokens: call after this process revoked a token or disabled a tenant, so
  // that the change takes effect here at once (other processes see it within the cache's age).
  void TokensChanged() const;

  static constexpr std::chrono::seconds kUsageFlushInterval{10};

 private:
  void CountUse(const std::string& name) const;

  std::shared_ptr<store::TokenStore> tokens_;
  std::shared_ptr<store::TokenCache> cache_;
  mutable std::mutex usage_mu_;
  mutable std::map<std::string, store::TokenStore::Usage> usage_;
  mutable std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

}  // namespace scim::http
