#include "http/authenticator.h"

#include "scim/common/clock.h"

namespace scim::http {

Authenticator::Authenticator(std::shared_ptr<store::TokenStore> tokens)
    : tokens_(std::move(tokens)) {}

Result<Caller> Authenticator::Authenticate(const HttpRequest& request,
                                           auth::Scope required) const {
  auto header = request.Header("authorization");
  std::optional<std::string> secret = header ? auth::ParseBearer(*header) : std::nullopt;
  if (!secret) return Error(ErrorCode::kUnauthorized, "a bearer token is required");
  auto token = tokens_->FindByHash(auth::HashTokenSecret(*secret));
  if (!token.ok()) return token.error();
  if (!token->has_value() || !auth::TokenUsable(**token, NowTimestamp())) {
    return Error(ErrorCode::kUnauthorized, "the bearer token is invalid, expired or revoked");
  }
  const auth::TokenRecord& record = **token;
  if (record.scopes.count(required) == 0) {
    return Error(ErrorCode::kForbidden,
                 "the token lacks the scope " + std::string(auth::ScopeName(required)));
  }
  return Caller{record.tenant.empty() ? "default" : record.tenant, record.name, record.scopes};
}

}  // namespace scim::http
