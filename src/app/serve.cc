// `scimd serve`: opens and migrates the database, loads the schemas, wires the HTTP API and runs
// until SIGTERM or SIGINT.

#include <pistache/router.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <thread>

#include "app/commands.h"
#include "http/server.h"
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

http::ApiOptions ApiOptionsOf(const Config& config) {
  http::ApiOptions options;
  options.public_url = config.public_url;
  options.max_body_bytes = static_cast<size_t>(config.limits.max_body_bytes);
  options.max_page_size = config.limits.max_page_size;
  options.bulk_max_operations = config.limits.bulk_max_operations;
  options.rate_limit_per_minute = config.limits.rate_limit_per_minute;
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

}  // namespace

int RunServe(const Config& config) {
  auto listen = ParseListen(config.listen);
  if (!listen.ok()) return Fail(listen.error().detail);
  auto registry = schema::Registry::LoadEmbedded();
  if (!registry.ok()) return Fail("cannot load schemas: " + registry.error().detail);
  size_t pool_size = static_cast<size_t>(config.threads) * 2 + 4;
  auto db = store::Database::Open(config.database, pool_size);
  if (!db.ok()) return Fail(db.error().detail);
  Status migrated = (*db)->Migrate();
  if (!migrated.ok()) return Fail("migration failed: " + migrated.error().detail);

  auto store = std::make_shared<store::ResourceStore>(*db, *registry);
  auto service = std::make_shared<service::ResourceService>(*registry, store,
                                                            config.limits.max_page_size);
  auto tokens = std::make_shared<store::TokenStore>(*db);
  auto router = std::make_shared<Pistache::Rest::Router>();
  auto api = http::BuildApi(*registry, *db, service, tokens, ApiOptionsOf(config), *router);

  sigset_t signals = BlockTerminationSignals();
  http::HttpServer server(ServerOptionsOf(config, listen->first, listen->second));
  Status started = server.Start(router);
  if (!started.ok()) return Fail(started.error().detail);
  spdlog::info("scimd listening on {}:{} (database {})", listen->first, server.Port(),
               config.database.substr(0, config.database.find('@') == std::string::npos
                                                ? config.database.size()
                                                : 0) +
                   (config.database.find('@') == std::string::npos ? "" : "postgresql"));
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received signal {}, shutting down", signal);
  server.Shutdown();
  return 0;
}

}  // namespace scim::app
