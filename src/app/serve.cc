// `scimd serve`: opens and migrates the database, loads the schemas, wires the HTTP API and runs
// until SIGTERM or SIGINT.

#include <arpa/inet.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "app/commands.h"
#include "app/logging.h"
#include "scim/adapters/registry.h"
#include "scim/common/log.h"
#include "scim/delivery/dispatcher.h"
#include "scim/http/api.h"
#include "scim/schema/registry.h"
#include "scim/service/resource_service.h"
#include "scim/store/database.h"
#include "scim/store/resource_store.h"
#include "scim/store/token_store.h"

namespace scim::app {
namespace {

// SIGTERM/SIGINT stop the server, SIGHUP re-reads the TLS certificate.
sigset_t BlockServerSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

std::vector<store::TargetRef> TargetRefs(const Config& config) {
  std::vector<store::TargetRef> refs;
  for (const auto& target : config.targets) refs.push_back({target.name, target.type});
  return refs;
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

// Where clients reach the SCIM root when no public_url is configured: the listen address (the
// host name for a wildcard one), never a client's Host header, which any client can forge.
std::string DefaultPublicUrl(const Config& config, const std::string& host, uint16_t port) {
  std::string name = host;
  if (host == "0.0.0.0" || host == "::" || host == "[::]" || host.empty()) {
    char buffer[256] = {0};
    name = gethostname(buffer, sizeof buffer - 1) == 0 ? buffer : "localhost";
  } else if (host.find(':') != std::string::npos && host.front() != '[') {
    name = "[" + host + "]";
  }
  return std::string(config.tls.enabled() ? "https://" : "http://") + name + ":" +
         std::to_string(port) + "/scim/v2";
}

// Raises the soft descriptor limit to the hard one and returns it.
size_t RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? 1u << 20 : static_cast<size_t>(limit.rlim_cur);
}

// Client connections the descriptors allow: what is left after the database pool, the
// delivery workers' sockets and the server's own descriptors, divided by the descriptors one
// connection takes (three over TLS: the client's, the relay's and Pistache's end of it).
// Staying below the limit matters: Pistache's acceptor spins when accept() fails with EMFILE.
size_t MaxConnections(const Config& config, size_t descriptors, size_t pool_size) {
  const size_t reserved =
      64 + pool_size + 8 * static_cast<size_t>(config.threads) +
      4 * config.targets.size() * static_cast<size_t>(config.delivery.workers_per_target);
  const size_t per_connection = config.tls.enabled() ? 3 : 1;
  size_t derived = descriptors > reserved + 16 ? (descriptors - reserved) / per_connection : 16;
  if (config.limits.max_connections > 0) {
    derived = std::min(derived, static_cast<size_t>(config.limits.max_connections));
  }
  return derived;
}

// SQLite: time API requests (foreground) and the delivery engine (background) waited for the
// single writer (store::Database::WriterStats).
std::string WriterMetrics(const store::Database& db) {
  if (db.dialect() != store::Dialect::kSqlite) return "";
  const auto stats = db.writer_stats();
  auto seconds = [](uint64_t ns) { return std::to_string(static_cast<double>(ns) / 1e9); };
  return "# HELP scimd_db_writer_wait_seconds_total Time write transactions waited for the SQLite "
         "writer.\n# TYPE scimd_db_writer_wait_seconds_total counter\n"
         "scimd_db_writer_wait_seconds_total{class=\"api\"} " +
         seconds(stats.foreground_wait_ns) +
         "\nscimd_db_writer_wait_seconds_total{class=\"delivery\"} " +
         seconds(stats.background_wait_ns) +
         "\n# HELP scimd_db_writer_transactions_total SQLite write transactions begun.\n"
         "# TYPE scimd_db_writer_transactions_total counter\n"
         "scimd_db_writer_transactions_total{class=\"api\"} " +
         std::to_string(stats.foreground_writes) +
         "\nscimd_db_writer_transactions_total{class=\"delivery\"} " +
         std::to_string(stats.background_writes) + "\n";
}

std::string PoolMetrics(const store::Database& db) {
  return "# HELP scimd_db_pool_connections Database connections in the pool.\n"
         "# TYPE scimd_db_pool_connections gauge\n"
         "scimd_db_pool_connections " +
         std::to_string(db.pool_size()) +
         "\n# HELP scimd_db_pool_in_use Database connections leased right now.\n"
         "# TYPE scimd_db_pool_in_use gauge\n"
         "scimd_db_pool_in_use " +
         std::to_string(db.connections_in_use()) + "\n" + WriterMetrics(db);
}

// Refuses plain HTTP on an address other clients can reach, unless insecure_http is set.
Status CheckTransport(const Config& config, const std::string& host) {
  if (config.tls.enabled()) {
    if (config.tls.cert_file.empty() || config.tls.key_file.empty()) {
      return Error(ErrorCode::kInvalidValue,
                   "tls: both cert_file and key_file (--tls-cert, --tls-key) are needed");
    }
    return http::CheckTlsSettings(
        {config.tls.cert_file, config.tls.key_file, config.tls.client_ca_file});
  }
  if (IsLoopback(host) || config.insecure_http) return OkStatus();
  return Error(ErrorCode::kInvalidValue,
               "refusing plain HTTP on non-loopback address " + host +
                   ": configure tls (cert_file, key_file; or --tls-cert/--tls-key), or set "
                   "insecure_http: true");
}

http::ApiOptions ApiOptionsOf(const Config& config, const std::string& host, uint16_t port) {
  http::ApiOptions options;
  options.public_url =
      config.public_url.empty() ? DefaultPublicUrl(config, host, port) : config.public_url;
  options.auth_failures_per_minute = config.limits.auth_failures_per_minute;
  options.access_log = config.log.access;
  options.version = VersionLine().substr(std::string("scimd ").size());
  options.max_body_bytes = static_cast<size_t>(config.limits.max_body_bytes);
  options.max_page_size = config.limits.max_page_size;
  options.bulk_max_operations = config.limits.bulk_max_operations;
  options.rate_limit_per_minute = config.limits.rate_limit_per_minute;
  options.targets = TargetRefs(config);
  return options;
}

http::ServerOptions ServerOptionsOf(const Config& config, const std::string& host, uint16_t port,
                                    size_t max_connections) {
  http::ServerOptions options;
  options.address = host;
  options.port = port;
  options.threads = config.threads;
  options.max_connections = max_connections;
  options.keep_alive_timeout = std::chrono::seconds(config.limits.idle_timeout_seconds);
  if (config.tls.enabled()) {
    options.tls =
        http::TlsSettings{config.tls.cert_file, config.tls.key_file, config.tls.client_ca_file};
  }
  options.max_body_bytes = static_cast<size_t>(config.limits.max_body_bytes);
  return options;
}

// One adapter per configured target; an unknown type or a bad block is an error naming it.
Result<std::vector<delivery::DispatchTarget>> BuildTargets(const Config& config) {
  adapters::AdapterRegistry registry = adapters::DefaultAdapterRegistry();
  std::vector<delivery::DispatchTarget> targets;
  for (const adapters::TargetConfig& target : config.targets) {
    SCIM_TRY(auto adapter, registry.Create(target));
    auto retry = config.target_retry.find(target.name);
    targets.push_back(
        {std::shared_ptr<events::TargetAdapter>(std::move(adapter)),
         retry != config.target_retry.end() ? retry->second : delivery::RetryPolicy{}});
  }
  return targets;
}

}  // namespace

int RunServe(const Config& config) {
  Status logging = ConfigureLogging(config.log.format);
  if (!logging.ok()) return Fail(logging.error().detail);
  auto listen = ParseListen(config.listen);
  if (!listen.ok()) return Fail(listen.error().detail);
  Status transport = CheckTransport(config, listen->first);
  if (!transport.ok()) return Fail(transport.error().detail);
  auto registry = schema::Registry::LoadEmbedded();
  if (!registry.ok()) return Fail("cannot load schemas: " + registry.error().detail);
  // HTTP threads, the delivery workers of every target, and the fan-out/housekeeping threads.
  size_t pool_size =
      static_cast<size_t>(config.threads) * 2 + 4 +
      config.targets.size() * static_cast<size_t>(config.delivery.workers_per_target + 1);
  auto db = store::Database::Open(config.database, pool_size);
  if (!db.ok()) return Fail(db.error().detail);
  (*db)->SetConnectionLog([](const std::string& line) { log::Warn("database: " + line); });
  Status migrated = (*db)->Migrate();
  if (!migrated.ok()) return Fail("migration failed: " + migrated.error().detail);

  auto targets = BuildTargets(config);
  if (!targets.ok()) return Fail(targets.error().detail);
  delivery::DispatcherOptions dispatch_options;
  dispatch_options.lease_duration = std::chrono::seconds(config.delivery.lease_seconds);
  dispatch_options.workers_per_target = static_cast<int>(config.delivery.workers_per_target);
  dispatch_options.poll_interval = std::chrono::milliseconds(config.delivery.poll_interval_ms);
  dispatch_options.breaker = config.delivery.breaker;
  dispatch_options.claim_batch = static_cast<int>(config.delivery.claim_batch);
  dispatch_options.backlog_claim_batch = static_cast<int>(config.delivery.backlog_claim_batch);
  dispatch_options.coalesce = static_cast<int>(config.delivery.coalesce);
  dispatch_options.niceness = static_cast<int>(config.delivery.niceness);
  dispatch_options.wake_delay = std::chrono::milliseconds(config.delivery.wake_delay_ms);
  dispatch_options.delivered_days = config.retention.delivered_days;
  dispatch_options.audit_days = config.retention.audit_days;
  delivery::Dispatcher dispatcher(*db, *targets, dispatch_options);

  auto store = std::make_shared<store::ResourceStore>(*db, *registry);
  auto service =
      std::make_shared<service::ResourceService>(*registry, store, config.limits.max_page_size);
  service->SetCommitListener([&dispatcher] { dispatcher.Notify(); });
  service->SetMaxValuesPerAttribute(config.limits.max_values_per_attribute);
  auto tokens = std::make_shared<store::TokenStore>(*db);
  const size_t max_connections = MaxConnections(config, RaiseDescriptorLimit(), pool_size);
  sigset_t signals = BlockServerSignals();
  http::ApiOptions api_options = ApiOptionsOf(config, listen->first, listen->second);
  api_options.extra_metrics = [database = *db] { return PoolMetrics(*database); };
  http::ApiServer server(*registry, *db, service, tokens, api_options,
                         ServerOptionsOf(config, listen->first, listen->second, max_connections));

  Status dispatching = dispatcher.Start();
  if (!dispatching.ok()) return Fail("delivery: " + dispatching.error().detail);
  Status started = server.Start();
  if (!started.ok()) return Fail(started.error().detail);
  log::Info(std::string("scimd listening on ") + (config.tls.enabled() ? "https" : "http") + "://" +
            listen->first + ":" + std::to_string(server.Port()) + " (at most " +
            std::to_string(max_connections) + " connections, database " +
            config.database.substr(
                0, config.database.find('@') == std::string::npos ? config.database.size() : 0) +
            (config.database.find('@') == std::string::npos ? "" : "postgresql") + ")");
  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    Status reloaded = server.ReloadTls();
    if (reloaded.ok()) {
      log::Info("SIGHUP: TLS certificate re-read");
    } else {
      log::Error("SIGHUP: keeping the old TLS certificate: " + reloaded.error().detail);
    }
  }
  log::Info("received signal " + std::to_string(signal) + ", shutting down");
  server.Shutdown();
  dispatcher.Stop();
  return 0;
}

}  // namespace scim::app
