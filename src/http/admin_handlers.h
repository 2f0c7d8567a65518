#pragma once
// The admin API (product.md, scope `admin`; `operator` across tenants): delivery status,
// deliveries, retries, links, the audit log, tenants, API keys and manual syncs, as JSON. Every
// answer covers the caller's tenant only; another tenant's ids are 404.

#include <memory>
#include <vector>

#include "http/authenticator.h"
#include "http/exchange.h"
#include "scim/store/audit_log.h"
#include "scim/store/database.h"
#include "scim/store/delivery_status.h"
#include "scim/store/token_store.h"

namespace scim::http {

// The tenant an admin request covers: the caller's own; for the operator, the `tenant` query
// parameter, or every tenant (nullopt) without one. kForbidden when a tenant admin names another
// tenant.
Result<std::optional<std::string>> AdminTenant(const HttpRequest& req, const Caller& caller);

class AdminHandlers {
 public:
  AdminHandlers(std::shared_ptr<store::Database> db, std::vector<store::TargetRef> targets,
                std::shared_ptr<store::TokenStore> tokens, const Authenticator* auth);

  HttpResponse SyncStatus(const HttpRequest& req, const Caller& caller) const;
  HttpResponse Deliveries(const HttpRequest& req, const Caller& caller) const;
  HttpResponse RetryDelivery(const HttpRequest& req, const Caller& caller) const;
  HttpResponse Links(const HttpRequest& req, const Caller& caller) const;
  HttpResponse Audit(const HttpRequest& req, const Caller& caller) const;
  HttpResponse SyncResource(const HttpRequest& req, const Caller& caller) const;
  HttpResponse Tenant(const HttpRequest& req, const Caller& caller) const;
  HttpResponse Tenants(const HttpRequest& req, const Caller& caller) const;
  HttpResponse CreateToken(const HttpRequest& req, const Caller& caller) const;
  HttpResponse ListTokens(const HttpRequest& req, const Caller& caller) const;
  HttpResponse RevokeToken(const HttpRequest& req, const Caller& caller) const;
  // Prometheus lines about the outbox and deliveries, for /metrics.
  std::string MetricsText() const;

 private:
  store::AuditRecord AuditOf(const HttpRequest& req, const Caller& caller,
                             const std::string& tenant) const;

  std::shared_ptr<store::Database> db_;
  std::vector<store::TargetRef> targets_;
  std::shared_ptr<store::TokenStore> tokens_;
  const Authenticator* auth_;
};

}  // namespace scim::http
