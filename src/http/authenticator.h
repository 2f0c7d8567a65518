#pragma once
// Bearer-token authentication (product.md "Auth"): the secret's SHA-256 is looked up in the
// token table; revoked or expired tokens are rejected; scopes decide what a request may do.

#include <memory>
#include <set>
#include <string>

#include "http/exchange.h"
#include "scim/auth/token.h"
#include "scim/common/result.h"
#include "scim/store/token_store.h"

namespace scim::http {

// The caller of an authenticated request.
struct Caller {
  std::string tenant;  // "default" when the token has none
  std::string actor;   // token name
  std::set<auth::Scope> scopes;
  bool Has(auth::Scope scope) const { return scopes.count(scope) > 0; }
};

class Authenticator {
 public:
  explicit Authenticator(std::shared_ptr<store::TokenStore> tokens);

  // kUnauthorized without a valid bearer token; kForbidden when it lacks `required`.
  Result<Caller> Authenticate(const HttpRequest& request, auth::Scope required) const;

 private:
  std::shared_ptr<store::TokenStore> tokens_;
};

}  // namespace scim::http
