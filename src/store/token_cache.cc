#include "scim/store/token_cache.h"

namespace scim::store {

TokenCache::TokenCache(std::shared_ptr<TokenStore> tokens, std::chrono::milliseconds max_age,
                       std::size_t capacity, Clock clock)
    : tokens_(std::move(tokens)),
      max_age_(max_age),
      capacity_(capacity),
      clock_(clock ? std::move(clock) : Clock(&std::chrono::steady_clock::now)) {}

Result<std::optional<auth::TokenRecord>> TokenCache::Find(const std::string& secret_hash) {
  if (auto cached = Fresh(secret_hash)) return cached;
  // Taken before the read: an entry never counts as younger than the data it holds.
  std::chrono::steady_clock::time_point read_at = clock_();
  std::size_t clears = BeginRead();
  auto found = tokens_->FindByHash(secret_hash);
  if (found.ok() && found->has_value()) Remember(secret_hash, **found, read_at, clears);
  return found;
}

std::optional<auth::TokenRecord> TokenCache::Fresh(const std::string& secret_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(secret_hash);
  if (it == entries_.end()) return std::nullopt;
  if (clock_() - it->second.read_at >= max_age_) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.record;
}

void TokenCache::Remember(const std::string& secret_hash, const auth::TokenRecord& record,
                          std::chrono::steady_clock::time_point read_at, std::size_t clears) {
  std::lock_guard<std::mutex> lock(mu_);
  // A Clear() during the read: the record may predate the change that caused it.
  if (capacity_ == 0 || clears != clears_) return;
  if (entries_.size() >= capacity_ && entries_.count(secret_hash) == 0) MakeRoom(clock_());
  entries_[secret_hash] = Entry{record, read_at};
}

// Drops the stale entries; when every entry is fresh, all of them (the next look-ups refill).
void TokenCache::MakeRoom(std::chrono::steady_clock::time_point now) {
  std::erase_if(entries_, [&](const auto& e) { return now - e.second.read_at >= max_age_; });
  if (entries_.size() >= capacity_) entries_.clear();
}

void TokenCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  ++clears_;
}

std::size_t TokenCache::BeginRead() {
  std::lock_guard<std::mutex> lock(mu_);
  ++database_lookups_;
  return clears_;
}

std::size_t TokenCache::DatabaseLookups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return database_lookups_;
}

std::size_t TokenCache::CachedTokens() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace scim::store
