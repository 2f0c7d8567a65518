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

  // kUniqueness when the name is taken (names are unique across tenants). An empty tenant is
  // stored as "default".
  Status Create(const auth::TokenRecord& token);
  // Every token, or those of `tenant`, by name.
  Result<std::vector<auth::TokenRecord>> List(const std::optional<std::string>& tenant = {});
  // Marks the token revoked; kNotFound when no active token has that name (in `tenant`, when
  // given: another tenant's token is not found either).
  Status Revoke(const std::string& name, const std::string& now,
                const std::optional<std::string>& tenant = {});
  // The token whose secret hashes to `secret_hash`, if any (usable or not), with whether its
  // tenant is disabled.
  Result<std::optional<auth::TokenRecord>> FindByHash(const std::string& secret_hash);

  // Requests counted in memory since the last write-back, per token name.
  struct Usage {
    std::string name;
    long long requests = 0;
    std::string last_used;
  };
  // Adds the counts and moves last_used forward (never back), in one transaction.
  Status AddUsage(const std::vector<Usage>& usage);

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace scim::store
