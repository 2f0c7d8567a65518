#pragma once
// The admin API (product.md, scope `admin`): delivery status, deliveries, retries, links and the
// audit log, as JSON.

#include <memory>
#include <vector>

#include "http/authenticator.h"
#include "http/exchange.h"
#include "scim/delivery/status.h"
#include "scim/store/database.h"

namespace scim::http {

class AdminHandlers {
 public:
  AdminHandlers(std::shared_ptr<store::Database> db, std::vector<delivery::TargetRef> targets);

  HttpResponse SyncStatus(const HttpRequest& req) const;
  HttpResponse Deliveries(const HttpRequest& req) const;
  HttpResponse RetryDelivery(const HttpRequest& req) const;
  HttpResponse Links(const HttpRequest& req, const Caller& caller) const;
  HttpResponse Audit(const HttpRequest& req, const Caller& caller) const;
  // Prometheus lines about the outbox and deliveries, for /metrics.
  std::string MetricsText() const;

 private:
  std::shared_ptr<store::Database> db_;
  std::vector<delivery::TargetRef> targets_;
};

}  // namespace scim::http
