#pragma once
// Persistence of API tokens (table api_tokens). Only SHA-256 hashes of secrets are stored; look-up
// is by hash (an index), and the caller compares in constant time.

#include <memory>
#include <optional>
#include <vector>

#include "scim/auth/token.h"
#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store {

class TokenStore {
 public:
  explicit TokenStore(std::shared_ptr<Database> db);

  // kUniqueness when the name is taken.
  Status Create(const auth::TokenRecord& token);
  Result<std::vector<auth::TokenRecord>> List();
  // Marks the token revoked; kNotFound when no token has that name.
  Status Revoke(const std::string& name, const std::string& now);
  // The token whose secret hashes to `secret_hash`, if any (usable or not).
  Result<std::optional<auth::TokenRecord>> FindByHash(const std::string& secret_hash);

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace scim::store
