#include <string>
#include <utility>

#include "http/build_api.h"
#include "http/server.h"
#include "scim/http/api.h"

namespace scim::http {
namespace {

HttpServerOptions HttpOptionsOf(const ServerOptions& options) {
  HttpServerOptions out;
  out.address = options.address;
  out.port = options.port;
  out.threads = options.threads;
  out.max_connections = options.max_connections;
  out.keep_alive_timeout = options.keep_alive_timeout;
  out.tls = options.tls;
  out.limits.max_body_bytes = options.max_body_bytes;
  return out;
}

std::string ConnectionMetrics(const HttpServer& server, size_t max_connections) {
  return "# HELP scimd_open_connections Client connections open now.\n"
         "# TYPE scimd_open_connections gauge\n"
         "scimd_open_connections " +
         std::to_string(server.open_connections()) +
         "\n# HELP scimd_max_connections The connection cap (limits.max_connections).\n"
         "# TYPE scimd_max_connections gauge\n"
         "scimd_max_connections " +
         std::to_string(max_connections) +
         "\n# HELP scimd_evicted_connections_total Idle connections closed to make room.\n"
         "# TYPE scimd_evicted_connections_total counter\n"
         "scimd_evicted_connections_total " +
         std::to_string(server.evicted_connections()) + "\n";
}

}  // namespace

struct ApiServer::Impl {
  explicit Impl(const ServerOptions& options) : server(HttpOptionsOf(options)) {}
  HttpServer server;
  std::shared_ptr<Pistache::Rest::Router> router = std::make_shared<Pistache::Rest::Router>();
  std::shared_ptr<Api> api;
};

ApiServer::ApiServer(std::shared_ptr<const schema::Registry> registry,
                     std::shared_ptr<store::Database> db,
                     std::shared_ptr<service::ResourceService> service,
                     std::shared_ptr<store::TokenStore> tokens, const ApiOptions& api_options,
                     const ServerOptions& server_options)
    : impl_(std::make_unique<Impl>(server_options)) {
  ApiOptions options = api_options;
  // The server's gauges first, then the caller's (serve: the database pool).
  options.extra_metrics = [server = &impl_->server, max = server_options.max_connections,
                           extra = api_options.extra_metrics] {
    return ConnectionMetrics(*server, max) + (extra ? extra() : std::string());
  };
  impl_->api = BuildApi(std::move(registry), std::move(db), std::move(service), std::move(tokens),
                        options, *impl_->router);
}

ApiServer::~ApiServer() { Shutdown(std::chrono::milliseconds(0)); }

Status ApiServer::Start() { return impl_->server.Start(impl_->router); }

uint16_t ApiServer::Port() const { return impl_->server.Port(); }

Status ApiServer::ReloadTls() { return impl_->server.ReloadTls(); }

void ApiServer::Shutdown(std::chrono::milliseconds drain) { impl_->server.Shutdown(drain); }

}  // namespace scim::http
