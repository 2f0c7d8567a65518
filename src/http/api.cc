#include "scim/http/api.h"

#include <chrono>

#include "http/admin_handlers.h"
#include "http/authenticator.h"
#include "http/console.h"
#include "http/discovery_handlers.h"
#include "http/error_response.h"
#include "http/metrics.h"
#include "http/pistache_binding.h"
#include "http/rate_limiter.h"
#include "http/safe_handler.h"
#include "http/scim_handlers.h"
#include "scim/store/tenant_store.h"

namespace scim::http {

using auth::Scope;
using Pistache::Rest::Routes::bind;

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
        limiter_(options.rate_limit_per_minute),
        admin_(db_, options.targets, tokens_, &auth_),
        discovery_(registry_, Capabilities{options.max_page_size, options.bulk_max_operations,
                                           static_cast<int64_t>(options.max_body_bytes), true}) {}

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
  void RegisterResourceType(Pistache::Rest::Router& router, const schema::ResourceType& type);
  void RegisterDiscovery(Pistache::Rest::Router& router);
  void RegisterOperations(Pistache::Rest::Router& router);
  void RegisterAdmin(Pistache::Rest::Router& router);
  void RegisterConsole(Pistache::Rest::Router& router);

  std::shared_ptr<const schema::Registry> registry_;
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<store::TokenStore> tokens_;
  Authenticator auth_;
  ScimHandlers scim_;
  RateLimiter limiter_;
  AdminHandlers admin_;
  DiscoveryHandlers discovery_;
  Metrics metrics_;
};

void Api::Route(Pistache::Rest::Router& router, Pistache::Http::Method method,
                const std::string& route, Handler handler) {
  router.addRoute(method, route,
                  SafeRoute([this, route, handler](const Pistache::Rest::Request& request,
                                                   Pistache::Http::ResponseWriter& writer) {
                    auto started = std::chrono::steady_clock::now();
                    auto converted = ToHttpRequest(request, route);
                    HttpResponse response =
                        converted.ok() ? handler(*converted) : ErrorResponse(converted.error());
                    if (converted.ok()) response.request_id = converted->request_id;
                    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
                    metrics_.Record(MethodName(request.method()), route, response.status,
                                    took.count());
                    WriteResponse(response, writer);
                  }));
}

void Api::ScimRoute(Pistache::Rest::Router& router, Pistache::Http::Method method,
                    const std::string& route, Scope scope, ScimHandler handler) {
  Route(router, method, route, [this, scope, handler](const HttpRequest& req) {
    auto caller = auth_.Authenticate(req, scope);
    if (!caller.ok()) return ErrorResponse(caller.error());
    if (auto wait = limiter_.Acquire(caller->actor)) {
      HttpResponse limited = ErrorResponse(ErrorCode::kTooManyRequests, "rate limit exceeded");
      limited.retry_after = std::to_string(*wait);
      return limited;
    }
    // The operator acts in another tenant on the SCIM endpoints with ?tenant= (its token still
    // needs the SCIM scope); the tenant must exist. Admin endpoints read ?tenant= themselves.
    if (scope != Scope::kAdmin && caller->IsOperator()) {
      if (auto tenant = req.Query("tenant"); tenant && !tenant->empty()) {
        auto known = store::TenantStore(db_).Find(*tenant);
        if (!known.ok()) return ErrorResponse(known.error());
        if (!known->has_value()) {
          return ErrorResponse(ErrorCode::kNotFound, "no tenant '" + *tenant + "'");
        }
        caller->tenant = *tenant;
      }
    }
    return handler(req, *caller);
  });
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
  ScimRoute(router, M::Post, "/scim/v2/Bulk", Scope::kWrite,
            [this](const HttpRequest& r, const Caller& c) { return scim_.Bulk(r, c); });
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
