#pragma once
// The HTTP API of scimd: SCIM (/scim/v2), admin (/admin/v1) and operations (/healthz, /readyz,
// /metrics) routes, and ApiServer, which serves them (plain HTTP or HTTPS). Pistache stays inside
// the http module: this header does not name it. The routes are wired in src/http/api.cc.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/result.h"
#include "scim/http/tls_settings.h"
#include "scim/schema/registry.h"
#include "scim/service/resource_service.h"
#include "scim/store/database.h"
#include "scim/store/delivery_status.h"
#include "scim/store/token_store.h"

namespace scim::http {

struct ApiOptions {
  std::string public_url;
  size_t max_body_bytes = 1048576;
  int64_t max_page_size = 1000;
  int64_t bulk_max_operations = 1000;
  int64_t rate_limit_per_minute = 6000;
  // Failed authentications allowed per client address and minute; then 429 until it refills.
  int64_t auth_failures_per_minute = 60;
  std::vector<store::TargetRef> targets;  // configured delivery targets, for the admin API
  bool access_log = true;  // one log record per request (method, route, status, ms, caller)
  std::string version;     // for scimd_build_info
  // Extra Prometheus text for /metrics (serve: the database pool), after ApiServer's connection
  // gauges.
  std::function<std::string()> extra_metrics;
};

// Where and how ApiServer listens.
struct ServerOptions {
  // Address to listen on: an IPv4 or IPv6 literal, or a host name.
  std::string address = "127.0.0.1";
  // 0 picks an ephemeral port; ApiServer::Port() tells which.
  uint16_t port = 0;
  // HTTP I/O threads (each runs handlers).
  int threads = 2;
  // Largest request body accepted (larger: SCIM 413).
  size_t max_body_bytes = 1024 * 1024;
  // An idle keep-alive connection (or one that never completes a request head) is closed after
  // this long.
  std::chrono::seconds keep_alive_timeout{60};
  // Open client connections at most (the one silent longest makes room); 0: no cap. Keep it
  // below the descriptor limit.
  size_t max_connections = 0;
  // HTTPS when set.
  std::optional<TlsSettings> tls;
};

// The API's routes on scimd's HTTP server. Besides ApiOptions::extra_metrics, /metrics carries
// the server's connection gauges (scimd_open_connections, scimd_max_connections,
// scimd_evicted_connections_total). Not thread-safe: call everything from the owner's thread.
//
// Signals: the server's threads inherit the signal mask of the thread that calls Start(). A
// program that waits for SIGTERM/SIGINT with sigwait() must block them before Start().
class ApiServer {
 public:
  ApiServer(std::shared_ptr<const schema::Registry> registry, std::shared_ptr<store::Database> db,
            std::shared_ptr<service::ResourceService> service,
            std::shared_ptr<store::TokenStore> tokens, const ApiOptions& api_options,
            const ServerOptions& server_options);
  // Shutdown(0ms) if still running.
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving on background threads; returns once the socket listens.
  // kUnavailable when the address cannot be bound; kInternal when already started.
  Status Start();
  // The bound port (the ephemeral one when port was 0); 0 before Start().
  uint16_t Port() const;
  // Re-reads the TLS certificate, key and CA: new connections use them, open ones are kept. An
  // error leaves the old certificate in use. OkStatus without TLS.
  Status ReloadTls();
  // Stops accepting requests, waits up to `drain` for those in progress, closes every
  // connection. Idempotent.
  void Shutdown(std::chrono::milliseconds drain = std::chrono::seconds(5));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scim::http
