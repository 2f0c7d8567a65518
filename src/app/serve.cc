// `scimd serve`: opens and migrates the database, loads the schemas, wires the HTTP API and runs
// until SIGTERM or SIGINT.

#include <pistache/router.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <thread>

#include "app/commands.h"
#include "http/server.h"
#include "scim/adapters/registry.h"
#include "scim/delivery/dispatcher.h"
#include "scim/http/api.h"
#include "scim/schema/registry.h"
#include "scim/service/resource_service.h"
#include "scim/store/database.h"
#include "scim/store/resource_store.h"
#include "scim/store/token_store.h"

namespace scim::app {
namespace {

sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

std::vector<delivery::TargetRef> TargetRefs(const Config& config) {
  std::vector<delivery::TargetRef> refs;
  for (const auto& target : config.targets) refs.push_back({target.name, target.type});
  return refs;
}

http::ApiOptions ApiOptionsOf(const Config& config) {
  http::ApiOptions options;
  options.public_url = config.public_url;
  options.max_body_bytes = static_cast<size_t>(config.limits.max_body_bytes);
  options.max_page_size = config.limits.max_page_size;
  options.bulk_max_operations = config.limits.bulk_max_operations;
  options.rate_limit_per_minute = config.limits.rate_limit_per_minute;
  options.targets = TargetRefs(config);
  return options;
}

http::HttpServerOptions ServerOptionsOf(const Config& config, const std::string& host,
                                        uint16_t port) {
  http::HttpServerOptions options;
  options.address = host;
  options.port = port;
  options.threads = config.threads;
  options.limits.max_body_bytes = static_cast<size_t>(config.limits.max_body_bytes);
  return options;
}

// One adapter per configured target; an unknown type or a bad block is an error naming it.
Result<std::vector<delivery::DispatchTarget>> BuildTargets(const Config& config) {
  adapters::AdapterRegistry registry = adapters::DefaultAdapterRegistry();
  std::vector<delivery::DispatchTarget> targets;
  for (const adapters::TargetConfig& target : config.targets) {
    auto adapter = registry.Create(target);
    if (!adapter.ok()) return adapter.error();
    targets.push_back({std::shared_ptr<events::TargetAdapter>(std::move(*adapter)), target.retry});
  }
  return targets;
}

void LogDelivery(delivery::LogLevel level, std::string_view message) {
  switch (level) {
    case delivery::LogLevel::kDebug:
      spdlog::debug("delivery: {}", message);
      break;
    case delivery::LogLevel::kInfo:
      spdlog::info("delivery: {}", message);
      break;
    case delivery::LogLevel::kWarning:
      spdlog::warn("delivery: {}", message);
      break;
    case delivery::LogLevel::kError:
      spdlog::error("delivery: {}", message);
      break;
  }
}

}  // namespace

int RunServe(const Config& config) {
  auto listen = ParseListen(config.listen);
  if (!listen.ok()) return Fail(listen.error().detail);
  auto registry = schema::Registry::LoadEmbedded();
  if (!registry.ok()) return Fail("cannot load schemas: " + registry.error().detail);
  // HTTP threads, the delivery workers of every target, and the fan-out/housekeeping threads.
  size_t pool_size =
      static_cast<size_t>(config.threads) * 2 + 4 +
      config.targets.size() * static_cast<size_t>(config.delivery.workers_per_target + 1);
  auto db = store::Database::Open(config.database, pool_size);
  if (!db.ok()) return Fail(db.error().detail);
  (*db)->SetConnectionLog([](const std::string& line) { spdlog::warn("database: {}", line); });
  Status migrated = (*db)->Migrate();
  if (!migrated.ok()) return Fail("migration failed: " + migrated.error().detail);

  auto targets = BuildTargets(config);
  if (!targets.ok()) return Fail(targets.error().detail);
  delivery::DispatcherOptions dispatch_options;
  dispatch_options.log = LogDelivery;
  dispatch_options.lease_duration = std::chrono::seconds(config.delivery.lease_seconds);
  dispatch_options.workers_per_target = static_cast<int>(config.delivery.workers_per_target);
  dispatch_options.poll_interval = std::chrono::milliseconds(config.delivery.poll_interval_ms);
  dispatch_options.delivered_days = config.retention.delivered_days;
  dispatch_options.audit_days = config.retention.audit_days;
  delivery::Dispatcher dispatcher(*db, *targets, dispatch_options);

  auto store = std::make_shared<store::ResourceStore>(*db, *registry);
  auto service =
      std::make_shared<service::ResourceService>(*registry, store, config.limits.max_page_size);
  service->SetCommitListener([&dispatcher] { dispatcher.Notify(); });
  service->SetMaxValuesPerAttribute(config.limits.max_values_per_attribute);
  auto tokens = std::make_shared<store::TokenStore>(*db);
  auto router = std::make_shared<Pistache::Rest::Router>();
  auto api = http::BuildApi(*registry, *db, service, tokens, ApiOptionsOf(config), *router);

  sigset_t signals = BlockTerminationSignals();
  Status dispatching = dispatcher.Start();
  if (!dispatching.ok()) return Fail("delivery: " + dispatching.error().detail);
  http::HttpServer server(ServerOptionsOf(config, listen->first, listen->second));
  Status started = server.Start(router);
  if (!started.ok()) return Fail(started.error().detail);
  spdlog::info("scimd listening on {}:{} (database {})", listen->first, server.Port(),
               config.database.substr(
                   0, config.database.find('@') == std::string::npos ? config.database.size() : 0) +
                   (config.database.find('@') == std::string::npos ? "" : "postgresql"));
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received signal {}, shutting down", signal);
  server.Shutdown();
  dispatcher.Stop();
  return 0;
}

}  // namespace scim::app
