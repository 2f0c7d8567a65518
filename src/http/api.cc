#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <variant>

#include "http/access_log.h"
#include "http/admin_handlers.h"
#include "http/authenticator.h"
#include "http/build_api.h"
#include "http/console.h"
#include "http/discovery_handlers.h"
#include "http/error_response.h"
#include "http/metrics.h"
#include "http/pistache_binding.h"
#include "http/rate_limiter.h"
#include "http/safe_handler.h"
#include "http/scim_handlers.h"
#include "scim/service/bulk.h"
#include "scim/store/tenant_store.h"

namespace scim::http {

using auth::Scope;
using Pistache::Rest::Routes::bind;

namespace {

bool HasWebhookTarget(const std::vector<store::TargetRef>& targets) {
  for (const store::TargetRef& t : targets) {
    if (t.type == "webhook") return true;
  }
  return false;
}

// RFC 7644 §3.1: SCIM bodies are application/scim+json; application/json is accepted too.
// Parameters (charset) are ignored, the type is case-insensitive (RFC 9110 §8.3.1).
bool IsJsonMediaType(const std::optional<std::string>& content_type) {
  if (!content_type) return false;
  std::string type = ToLower(Trim(content_type->substr(0, content_type->find(';'))));
  return type == "application/scim+json" || type == "application/json";
}

}  // namespace

// Owns the handlers the routes call.
class Api {
 public:
  Api(std::shared_ptr<const schema::Registry> registry, std::shared_ptr<store::Database> db,
      std::shared_ptr<service::ResourceService> service, std::shared_ptr<store::TokenStore> tokens,
      const ApiOptions& options)
      : registry_(std::move(registry)),
        db_(std::move(db)),
        tokens_(tokens),
        auth_(std::move(tokens)),
        scim_(std::move(service), ScimSettings{options.public_url, options.max_body_bytes,
                                               options.bulk_max_operations}),
        limiter_(
            options.rate_limit_per_minute,
            [budgets = std::make_shared<store::RateBudgets>(db_)](
                const std::string& key, double capacity, double per_second, double at_least,
                double want) { return budgets->Take(key, capacity, per_second, at_least, want); }),
        auth_failures_(options.auth_failures_per_minute),
        admin_(db_, options.targets, tokens_, &auth_),
        discovery_(registry_, Capabilities{options.max_page_size, options.bulk_max_operations,
                                           static_cast<int64_t>(options.max_body_bytes), true,
                                           HasWebhookTarget(options.targets)}),
        access_log_(options.access_log),
        version_(options.version),
        extra_metrics_(options.extra_metrics) {}

  void Register(Pistache::Rest::Router& router);

 private:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  using ScimHandler = std::function<HttpResponse(const HttpRequest&, const Caller&)>;

  // Registers `handler` for `method` and `route` with metrics and exception safety.
  void Route(Pistache::Rest::Router& router, Pistache::Http::Method method,
             const std::string& route, Handler handler);
  // Same, behind bearer authentication with `scope`.
  void ScimRoute(Pistache::Rest::Router& router, Pistache::Http::Method method,
                 const std::string& route, Scope scope, ScimHandler handler);
  // POST /Bulk: as ScimRoute, but the body is parsed once, when the request is authenticated, to
  // charge the rate limit with its operations; the handler gets the parsed body.
  void BulkRoute(Pistache::Rest::Router& router);
  // What every ScimRoute checks before its handler: authentication (AuthenticateLimited), the
  // media type of a body, the per-token rate limit (charged `cost()`, called only for an
  // authenticated request with an acceptable body) and the operator's ?tenant=. Returns the
  // caller, or the response that refuses the request.
  std::variant<Caller, HttpResponse> Admit(const HttpRequest& req, Scope scope,
                                           const std::function<int64_t()>& cost);
  void RegisterResourceType(Pistache::Rest::Router& router, const schema::ResourceType& type);
  // The discovery endpoints (ServiceProviderConfig, ResourceTypes, Schemas), and the SCIM routes
  // at the root that belong to no resource type: /Me (501), /Bulk and /.search.
  void RegisterDiscovery(Pistache::Rest::Router& router);
  void RegisterOperations(Pistache::Rest::Router& router);
  void RegisterAdmin(Pistache::Rest::Router& router);
  // Every method a registered path lacks answers 405 with Allow (RFC 9110 §15.5.6).
  void RegisterMethodNotAllowed(Pistache::Rest::Router& router);
  // The server's own gauges and counters for /metrics (build info, rate limiting, extras).
  std::string ServerMetricsText() const;
  // 401 and 403 as Authenticator says; 429 while the client's address has used up its failed
  // authentications (limits.auth_failures_per_minute): invalid tokens cost a hash and a look-up,
  // and are never counted against a token's own rate limit.
  // Returns the caller, or the response that refuses the request.
  std::variant<Caller, HttpResponse> AuthenticateLimited(const HttpRequest& req, Scope scope);
  void RegisterConsole(Pistache::Rest::Router& router);

  std::shared_ptr<const schema::Registry> registry_;
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<store::TokenStore> tokens_;
  Authenticator auth_;
  ScimHandlers scim_;
  RateLimiter limiter_;
  RateLimiter auth_failures_;  // by client address
  std::map<std::string, std::set<Pistache::Http::Method>> methods_by_route_;
  AdminHandlers admin_;
  DiscoveryHandlers discovery_;
  Metrics metrics_;
  std::atomic<uint64_t> rate_limited_{0};  // 429s of the per-token limit
  std::atomic<uint64_t> auth_limited_{0};  // 429s of the failed-authentication limit
  bool access_log_ = true;
  std::string version_;
  std::function<std::string()> extra_metrics_;
};

void Api::Route(Pistache::Rest::Router& router, Pistache::Http::Method method,
                const std::string& route, Handler handler) {
  methods_by_route_[route].insert(method);
  router.addRoute(method, route,
                  SafeRoute([this, route, handler](const Pistache::Rest::Request& request,
                                                   Pistache::Http::ResponseWriter& writer) {
                    auto started = std::chrono::steady_clock::now();
                    auto converted = ToHttpRequest(request, route);
                    HttpResponse response =
                        converted.ok() ? handler(*converted) : ErrorResponse(converted.error());
                    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
                    const std::string method = MethodName(request.method());
                    metrics_.Record(method, route, response.status, took.count());
                    if (converted.ok()) {
                      response.request_id = converted->request_id;
                      if (access_log_) LogAccess(*converted, route, response.status, took.count());
                    }
                    WriteResponse(response, writer);
                  }));
}

void Api::ScimRoute(Pistache::Rest::Router& router, Pistache::Http::Method method,
                    const std::string& route, Scope scope, ScimHandler handler) {
  Route(router, method, route, [this, scope, handler](const HttpRequest& req) {
    auto admitted = Admit(req, scope, [] { return int64_t{1}; });
    if (auto* refused = std::get_if<HttpResponse>(&admitted)) return std::move(*refused);
    return handler(req, std::get<Caller>(admitted));
  });
}

void Api::BulkRoute(Pistache::Rest::Router& router) {
  Route(router, Pistache::Http::Method::Post, "/scim/v2/Bulk", [this](const HttpRequest& req) {
    json::Document body;
    Status parsed = OkStatus();
    // A /Bulk counts its operations against the rate limit; an unreadable body counts 1 and is
    // refused below.
    auto admitted = Admit(req, Scope::kWrite, [&] {
      parsed = json::Parse(req.body, body);
      return parsed.ok() ? std::max<int64_t>(1, service::CountBulkOperations(body)) : 1;
    });
    if (auto* refused = std::get_if<HttpResponse>(&admitted)) return std::move(*refused);
    if (!parsed.ok()) return ErrorResponse(parsed.error());
    return scim_.Bulk(req, std::get<Caller>(admitted), body);
  });
}

std::variant<Caller, HttpResponse> Api::Admit(const HttpRequest& req, Scope scope,
                                              const std::function<int64_t()>& cost) {
  auto authenticated = AuthenticateLimited(req, scope);
  if (std::holds_alternative<HttpResponse>(authenticated)) return authenticated;
  Caller& caller = std::get<Caller>(authenticated);
  req.caller_tenant = caller.tenant;
  req.caller_token = caller.actor;
  if (!req.body.empty() && !IsJsonMediaType(req.Header("content-type"))) {
    return ErrorResponse(ErrorCode::kUnsupportedMediaType,
                         "the body must be application/scim+json or application/json");
  }
  if (auto wait = limiter_.Acquire(caller.tenant + "/" + caller.actor, cost())) {
    rate_limited_.fetch_add(1);
    HttpResponse limited = ErrorResponse(ErrorCode::kTooManyRequests, "rate limit exceeded");
    limited.retry_after = std::to_string(*wait);
    return limited;
  }
  // The operator acts in another tenant on the SCIM endpoints with ?tenant= (its token still
  // needs the SCIM scope); the tenant must exist. Admin endpoints read ?tenant= themselves.
  if (scope != Scope::kAdmin && caller.IsOperator()) {
    if (auto tenant = req.Query("tenant"); tenant && !tenant->empty()) {
      auto known = store::TenantStore(db_).Find(*tenant);
      if (!known.ok()) return ErrorResponse(known.error());
      if (!known->has_value()) {
        return ErrorResponse(ErrorCode::kNotFound, "no tenant '" + *tenant + "'");
      }
      caller.tenant = *tenant;
    }
  }
  return authenticated;
}

std::variant<Caller, HttpResponse> Api::AuthenticateLimited(const HttpRequest& req, Scope scope) {
  if (auto wait = auth_failures_.Peek(req.client_address)) {
    auth_limited_.fetch_add(1);
    HttpResponse limited = ErrorResponse(ErrorCode::kTooManyRequests,
                                         "too many failed authentications from this address");
    limited.retry_after = std::to_string(*wait);
    return limited;
  }
  auto caller = auth_.Authenticate(req, scope);
  if (caller.ok()) return std::move(*caller);
  if (caller.error().code == ErrorCode::kUnauthorized) auth_failures_.Acquire(req.client_address);
  return ErrorResponse(caller.error());
}

std::string Api::ServerMetricsText() const {
  std::string out =
      "# HELP scimd_build_info The running scimd's version.\n"
      "# TYPE scimd_build_info gauge\n"
      "scimd_build_info{version=\"" +
      version_ +
      "\"} 1\n"
      "# HELP scimd_rate_limited_requests_total Requests answered 429, by limit.\n"
      "# TYPE scimd_rate_limited_requests_total counter\n"
      "scimd_rate_limited_requests_total{limit=\"token\"} " +
      std::to_string(rate_limited_.load()) +
      "\n"
      "scimd_rate_limited_requests_total{limit=\"auth_failures\"} " +
      std::to_string(auth_limited_.load()) + "\n";
  if (extra_metrics_) out += extra_metrics_();
  return out;
}

void Api::RegisterMethodNotAllowed(Pistache::Rest::Router& router) {
  using M = Pistache::Http::Method;
  const auto known = methods_by_route_;
  for (const auto& [route, methods] : known) {
    std::string allow;
    for (M method : methods) allow += (allow.empty() ? "" : ", ") + MethodName(method);
    for (M method : {M::Get, M::Post, M::Put, M::Patch, M::Delete, M::Head, M::Options}) {
      if (methods.count(method) > 0) continue;
      Route(router, method, route, [allow](const HttpRequest& r) {
        HttpResponse response = ErrorResponse(ErrorCode::kMethodNotAllowed,
                                              r.method + " is not supported on this endpoint");
        response.allow = allow;
        return response;
      });
    }
  }
}

void Api::RegisterResourceType(Pistache::Rest::Router& router, const schema::ResourceType& type) {
  using M = Pistache::Http::Method;
  const std::string base = "/scim/v2" + type.endpoint;
  const schema::ResourceType* t = &type;
  ScimRoute(router, M::Get, base, Scope::kRead,
            [this, t](const HttpRequest& r, const Caller& c) { return scim_.List(r, c, *t); });
  ScimRoute(router, M::Post, base + "/.search", Scope::kRead,
            [this, t](const HttpRequest& r, const Caller& c) { return scim_.Search(r, c, {t}); });
  ScimRoute(router, M::Post, base, Scope::kWrite,
            [this, t](const HttpRequest& r, const Caller& c) { return scim_.Create(r, c, *t); });
  ScimRoute(router, M::Get, base + "/:id", Scope::kRead,
            [this, t](const HttpRequest& r, const Caller& c) { return scim_.Get(r, c, *t); });
  ScimRoute(router, M::Put, base + "/:id", Scope::kWrite,
            [this, t](const HttpRequest& r, const Caller& c) { return scim_.Replace(r, c, *t); });
  ScimRoute(router, M::Patch, base + "/:id", Scope::kWrite,
            [this, t](const HttpRequest& r, const Caller& c) { return scim_.Patch(r, c, *t); });
  ScimRoute(router, M::Delete, base + "/:id", Scope::kWrite,
            [this, t](const HttpRequest& r, const Caller& c) { return scim_.Delete(r, c, *t); });
}

// RFC 7644 §4: discovery endpoints do not filter; a filter there SHALL be answered with 403.
HttpResponse RefuseFilter() {
  return ErrorResponse(ErrorCode::kForbidden, "filtering is not supported on discovery endpoints");
}

void Api::RegisterDiscovery(Pistache::Rest::Router& router) {
  using M = Pistache::Http::Method;
  ScimRoute(router, M::Get, "/scim/v2/ServiceProviderConfig", Scope::kRead,
            [this](const HttpRequest& r, const Caller&) {
              if (r.Query("filter")) return RefuseFilter();
              return discovery_.ServiceProviderConfig(scim_.BaseUrl(r));
            });
  ScimRoute(router, M::Get, "/scim/v2/ResourceTypes", Scope::kRead,
            [this](const HttpRequest& r, const Caller&) {
              if (r.Query("filter")) return RefuseFilter();
              return discovery_.ResourceTypes(scim_.BaseUrl(r));
            });
  ScimRoute(router, M::Get, "/scim/v2/ResourceTypes/:name", Scope::kRead,
            [this](const HttpRequest& r, const Caller&) {
              return discovery_.ResourceType(scim_.BaseUrl(r), r.params.at("name"));
            });
  ScimRoute(router, M::Get, "/scim/v2/Schemas", Scope::kRead,
            [this](const HttpRequest& r, const Caller&) {
              if (r.Query("filter")) return RefuseFilter();
              return discovery_.Schemas(scim_.BaseUrl(r));
            });
  ScimRoute(router, M::Get, "/scim/v2/Schemas/:urn", Scope::kRead,
            [this](const HttpRequest& r, const Caller&) {
              return discovery_.Schema(scim_.BaseUrl(r), r.params.at("urn"));
            });
  // RFC 7644 §3.11: a service provider without /Me SHOULD answer 501. Tokens here belong to
  // clients, not to users, so there is no "me" to resolve.
  for (M method : {M::Get, M::Post, M::Put, M::Patch, M::Delete}) {
    ScimRoute(router, method, "/scim/v2/Me", Scope::kRead, [](const HttpRequest&, const Caller&) {
      return ErrorResponse(ErrorCode::kNotImplemented,
                           "/Me is not supported: tokens are bound to clients, not to users");
    });
  }
  BulkRoute(router);
  ScimRoute(router, M::Post, "/scim/v2/.search", Scope::kRead,
            [this](const HttpRequest& r, const Caller& c) {
              std::vector<const schema::ResourceType*> types;
              for (const auto& type : registry_->resource_types()) types.push_back(&type);
              return scim_.Search(r, c, types);
            });
}

void Api::RegisterOperations(Pistache::Rest::Router& router) {
  using M = Pistache::Http::Method;
  Route(router, M::Get, "/healthz", [](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "application/json";
    r.body = "{\"status\":\"ok\"}";
    return r;
  });
  Route(router, M::Get, "/readyz", [this](const HttpRequest&) {
    Status ping = db_->Ping();
    HttpResponse r;
    r.content_type = "application/json";
    r.status = ping.ok() ? 200 : 503;
    r.body = ping.ok() ? "{\"status\":\"ready\"}" : "{\"status\":\"database unavailable\"}";
    if (!ping.ok()) r.retry_after = "1";
    return r;
  });
  // Pistache's Router::route inserts a method's route table on first use; registering a route
  // for every method before the server starts keeps that from racing between I/O threads.
  Route(router, M::Head, "/healthz", [](const HttpRequest&) {
    HttpResponse r;
    r.status = 204;
    return r;
  });
  for (M method : {M::Options, M::Trace, M::Connect}) {
    Route(router, method, "/healthz", [](const HttpRequest&) {
      return ErrorResponse(ErrorCode::kNotImplemented, "method not supported");
    });
  }
  Route(router, M::Get, "/metrics", [this](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.Render();
    return r;
  });
}

void Api::RegisterAdmin(Pistache::Rest::Router& router) {
  using M = Pistache::Http::Method;
  ScimRoute(router, M::Get, "/admin/v1/audit", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.Audit(r, c); });
  ScimRoute(router, M::Get, "/admin/v1/sync/status", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.SyncStatus(r, c); });
  ScimRoute(router, M::Get, "/admin/v1/sync/deliveries", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.Deliveries(r, c); });
  ScimRoute(router, M::Post, "/admin/v1/sync/deliveries/:id/retry", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.RetryDelivery(r, c); });
  ScimRoute(router, M::Get, "/admin/v1/sync/links", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.Links(r, c); });
  ScimRoute(router, M::Post, "/admin/v1/sync/resources/:id", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.SyncResource(r, c); });
  ScimRoute(router, M::Get, "/admin/v1/tenant", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.Tenant(r, c); });
  ScimRoute(router, M::Get, "/admin/v1/tenants", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.Tenants(r, c); });
  ScimRoute(router, M::Post, "/admin/v1/tokens", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.CreateToken(r, c); });
  ScimRoute(router, M::Get, "/admin/v1/tokens", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.ListTokens(r, c); });
  ScimRoute(router, M::Delete, "/admin/v1/tokens/:name", Scope::kAdmin,
            [this](const HttpRequest& r, const Caller& c) { return admin_.RevokeToken(r, c); });
  metrics_.AddCollector([this] { return admin_.MetricsText(); });
  metrics_.AddCollector([this] { return ServerMetricsText(); });
}

void Api::RegisterConsole(Pistache::Rest::Router& router) {
  using M = Pistache::Http::Method;
  auto serve = [](const HttpRequest& r) { return ServeConsole(r.path); };
  // Pistache drops trailing slashes when matching: "/console" also takes "/console/", and
  // ServeConsole tells them apart by the raw path.
  Route(router, M::Get, "/console", serve);
  Route(router, M::Get, "/console/:file", serve);
}

void Api::Register(Pistache::Rest::Router& router) {
  for (const auto& type : registry_->resource_types()) RegisterResourceType(router, type);
  RegisterDiscovery(router);
  RegisterOperations(router);
  RegisterAdmin(router);
  RegisterConsole(router);
  RegisterMethodNotAllowed(router);
  router.addNotFoundHandler([](const Pistache::Rest::Request&, Pistache::Http::ResponseWriter w) {
    WriteResponse(ErrorResponse(ErrorCode::kNotFound, "no such endpoint"), w);
    return Pistache::Rest::Route::Result::Ok;
  });
}

std::shared_ptr<Api> BuildApi(std::shared_ptr<const schema::Registry> registry,
                              std::shared_ptr<store::Database> db,
                              std::shared_ptr<service::ResourceService> service,
                              std::shared_ptr<store::TokenStore> tokens, const ApiOptions& options,
                              Pistache::Rest::Router& router) {
  auto api = std::make_shared<Api>(std::move(registry), std::move(db), std::move(service),
                                   std::move(tokens), options);
  api->Register(router);
  return api;
}

}  // namespace scim::http
