#pragma once
// A per-process cache of token look-ups by secret hash, in front of TokenStore::FindByHash, so
// that a request does not query the database for its token. A found token (usable or not, with
// its tenant's disabled flag) is served from memory for at most `max_age` after it was read;
// the first look-up after that reads it again. A revocation, a tenant disable or any other
// change made by another process therefore takes effect here within max_age plus one look-up.
// Expiry is not cached: the caller checks the record's `expires` against the clock each time.
// A hash that matches no token is never remembered (each miss is a query; the failed
// authentication limit per client address bounds those), and at most `capacity` tokens are
// kept, so unknown secrets cannot fill memory.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "scim/auth/token.h"
#include "scim/common/result.h"
#include "scim/store/token_store.h"

namespace scim::store {

class TokenCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  static constexpr std::chrono::milliseconds kDefaultMaxAge{500};
  static constexpr std::size_t kDefaultCapacity = 4096;

  // `clock` defaults to std::chrono::steady_clock::now (tests pass their own).
  explicit TokenCache(std::shared_ptr<TokenStore> tokens,
                      std::chrono::milliseconds max_age = kDefaultMaxAge,
                      std::size_t capacity = kDefaultCapacity, Clock clock = {});

  // What TokenStore::FindByHash answers for `secret_hash`, from memory when it was read less
  // than max_age ago. Errors of the look-up are returned and not cached. Thread-safe.
  Result<std::optional<auth::TokenRecord>> Find(const std::string& secret_hash);

  // Drops every cached token: the next look-up of each goes to the database. Call after this
  // process changed tokens or tenants, so that its own change takes effect at once.
  void Clear();

  // How many look-ups went to the database so far (hits excluded).
  std::size_t DatabaseLookups() const;
  // How many tokens are held now (at most the capacity).
  std::size_t CachedTokens() const;

 private:
  struct Entry {
    auth::TokenRecord record;
    std::chrono::steady_clock::time_point read_at;
  };
  std::optional<auth::TokenRecord> Fresh(const std::string& secret_hash);
  void Remember(const std::string& secret_hash, const auth::TokenRecord& record,
                std::chrono::steady_clock::time_point read_at, std::size_t clears);
  // Counts a database look-up; returns how many Clear()s happened so far.
  std::size_t BeginRead();
  void MakeRoom(std::chrono::steady_clock::time_point now);

  std::shared_ptr<TokenStore> tokens_;
  std::chrono::milliseconds max_age_;
  std::size_t capacity_;
  Clock clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t database_lookups_ = 0;
  std::size_t clears_ = 0;
};

}  // namespace scim::store
