#include "http/authenticator.h"

#include "scim/common/clock.h"

namespace scim::http {

Authenticator::Authenticator(std::shared_ptr<store::TokenStore> tokens)
    : tokens_(std::move(tokens)), cache_(std::make_shared<store::TokenCache>(tokens_)) {}

Authenticator::~Authenticator() { FlushUsage(); }

void Authenticator::FlushUsage() const {
  std::vector<store::TokenStore::Usage> batch;
  {
    std::lock_guard<std::mutex> lock(usage_mu_);
    for (auto& [name, usage] : usage_) batch.push_back(std::move(usage));
    usage_.clear();
    last_flush_ = std::chrono::steady_clock::now();
  }
  // Usage is best effort: a failed write-back loses counts, never a request.
  (void)tokens_->AddUsage(batch);
}

void Authenticator::TokensChanged() const { cache_->Clear(); }

void Authenticator::CountUse(const std::string& name) const {
  bool flush = false;
  {
    std::lock_guard<std::mutex> lock(usage_mu_);
    store::TokenStore::Usage& usage = usage_[name];
    usage.name = name;
    usage.requests += 1;
    usage.last_used = NowTimestamp();
    flush = std::chrono::steady_clock::now() - last_flush_ >= kUsageFlushInterval;
    if (flush) last_flush_ = std::chrono::steady_clock::now();
  }
  if (flush) FlushUsage();
}

Result<Caller> Authenticator::Authenticate(const HttpRequest& request, auth::Scope required) const {
  auto header = request.Header("authorization");
  std::optional<std::string> secret = header ? auth::ParseBearer(*header) : std::nullopt;
  if (!secret) return Error(ErrorCode::kUnauthorized, "a bearer token is required");
  auto token = cache_->Find(auth::HashTokenSecret(*secret));
  if (!token.ok()) return token.error();
  if (!token->has_value() || !auth::TokenUsable(**token, NowTimestamp())) {
    return Error(ErrorCode::kUnauthorized, "the bearer token is invalid, expired or revoked");
  }
  const auth::TokenRecord& record = **token;
  if (record.tenant_disabled) {
    return Error(ErrorCode::kUnauthorized, "the bearer token is invalid, expired or revoked");
  }
  CountUse(record.name);
  bool operator_as_admin =
      required == auth::Scope::kAdmin && record.scopes.count(auth::Scope::kOperator) > 0;
  if (record.scopes.count(required) == 0 && !operator_as_admin) {
    return Error(ErrorCode::kForbidden,
                 "the token lacks the scope " + std::string(auth::ScopeName(required)));
  }
  return Caller{record.tenant.empty() ? "default" : record.tenant, record.name, record.scopes};
}

}  // namespace scim::http
