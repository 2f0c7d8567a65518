#include "scim/app/main.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "app/commands.h"

namespace scim::app {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

struct ServeFlags {
  std::string config_file;
  std::string db;
  std::string listen;
  std::string tls_cert;
  std::string tls_key;
  int threads = 0;
};

// File, then environment, then flags (product.md: command-line flags win).
Result<Config> ResolveServeConfig(const ServeFlags& flags) {
  std::string file = flags.config_file.empty() ? EnvOr("SCIMD_CONFIG", "") : flags.config_file;
  Config config;
  if (!file.empty()) {
    SCIM_TRY(auto loaded, LoadConfigFile(file));
    config = loaded;
  }
  config.database = EnvOr("SCIMD_DB", config.database);
  config.listen = EnvOr("SCIMD_LISTEN", config.listen);
  if (!flags.db.empty()) config.database = flags.db;
  if (!flags.listen.empty()) config.listen = flags.listen;
  config.tls.cert_file = EnvOr("SCIMD_TLS_CERT", config.tls.cert_file);
  config.tls.key_file = EnvOr("SCIMD_TLS_KEY", config.tls.key_file);
  if (!flags.tls_cert.empty()) config.tls.cert_file = flags.tls_cert;
  if (!flags.tls_key.empty()) config.tls.key_file = flags.tls_key;
  if (flags.threads > 0) config.threads = flags.threads;
  return config;
}

void AddTokenCommands(CLI::App& app, TokenCreateOptions& create, std::string& db,
                      std::string& revoke_name, int& result) {
  CLI::App* token = app.add_subcommand("token", "manage API tokens")->require_subcommand(1);
  CLI::App* c = token->add_subcommand("create", "create a token; prints the secret last");
  c->add_option("--db", create.db, "database URL")->envname("SCIMD_DB")->required();
  c->add_option("--name", create.name, "token name")->required();
  c->add_option("--tenant", create.tenant, "tenant");
  c->add_option("--scopes", create.scopes, "scim:read,scim:write,admin,operator");
  c->add_option("--expires-days", create.expires_days, "days until expiry");
  c->callback([&] { result = RunTokenCreate(create); });
  CLI::App* l = token->add_subcommand("list", "list tokens");
  l->add_option("--db", db, "database URL")->envname("SCIMD_DB")->required();
  l->callback([&] { result = RunTokenList(db); });
  CLI::App* r = token->add_subcommand("revoke", "revoke a token");
  r->add_option("--db", db, "database URL")->envname("SCIMD_DB")->required();
  r->add_option("name", revoke_name, "token name")->required();
  r->callback([&] { result = RunTokenRevoke(db, revoke_name); });
}

void AddTenantCommands(CLI::App& app, TenantCommand& command, std::string& db, int& result) {
  CLI::App* tenant = app.add_subcommand("tenant", "manage tenants")->require_subcommand(1);
  CLI::App* c = tenant->add_subcommand("create", "create a tenant");
  c->add_option("--db", command.db, "database URL")->envname("SCIMD_DB")->required();
  c->add_option("name", command.name, "tenant name")->required();
  c->add_option("--display-name", command.display_name, "a name for people");
  c->callback([&] { result = RunTenantCreate(command); });
  CLI::App* l = tenant->add_subcommand("list", "list tenants");
  l->add_option("--db", db, "database URL")->envname("SCIMD_DB")->required();
  l->callback([&] { result = RunTenantList(db); });
  CLI::App* d = tenant->add_subcommand("disable", "disable a tenant: its tokens get 401");
  d->add_option("--db", command.db, "database URL")->envname("SCIMD_DB")->required();
  d->add_option("name", command.name, "tenant name")->required();
  d->callback([&] { result = RunTenantDisable(command); });
}

void AddReconcileCommand(CLI::App& sync, ReconcileCommand& command, int& result) {
  CLI::App* reconcile =
      sync.add_subcommand("reconcile",
                          "compare a target's links with what it holds; repair what is missing or "
                          "orphaned");
  reconcile->add_option("--db", command.db, "database URL")->envname("SCIMD_DB");
  reconcile->add_option("--config", command.config_file, "YAML configuration file")
      ->envname("SCIMD_CONFIG")
      ->required();
  reconcile->add_option("--target", command.target, "target name")->required();
  reconcile->add_flag("--dry-run", command.dry_run, "only report what would be done");
  reconcile->callback([&] { result = RunSyncReconcile(command); });
}

void AddSyncCommands(CLI::App& app, std::string& db, std::optional<std::string>& target,
                     ReconcileCommand& reconcile, SyncResourceCommand& one, int& result) {
  CLI::App* sync = app.add_subcommand("sync", "delivery to targets")->require_subcommand(1);
  CLI::App* status = sync->add_subcommand("status", "delivery status per target");
  status->add_option("--db", db, "database URL")->envname("SCIMD_DB")->required();
  status->callback([&] { result = RunSyncStatus(db); });
  CLI::App* retry = sync->add_subcommand("retry", "re-queue failed deliveries");
  retry->add_option("--db", db, "database URL")->envname("SCIMD_DB")->required();
  retry->add_option("--target", target, "only this target");
  retry->callback([&] { result = RunSyncRetry(db, target); });
  CLI::App* resource =
      sync->add_subcommand("resource", "re-deliver one resource's current state now");
  resource->add_option("--db", one.db, "database URL")->envname("SCIMD_DB")->required();
  resource->add_option("id", one.id, "the resource's SCIM id")->required();
  resource->add_option("--target", one.target, "only this target");
  resource->add_option("--tenant", one.tenant, "the resource's tenant (when ids repeat)");
  resource->callback([&] { result = RunSyncResource(one); });
  AddReconcileCommand(*sync, reconcile, result);
}

// `scimd config check --config FILE`.
void AddConfigCommands(CLI::App& app, std::string& config_file, int& result) {
  CLI::App* config = app.add_subcommand("config", "configuration files")->require_subcommand(1);
  CLI::App* check = config->add_subcommand("check", "validate a configuration file and exit");
  check->add_option("--config", config_file, "YAML configuration file")
      ->envname("SCIMD_CONFIG")
      ->required();
  check->callback([&] { result = RunConfigCheck(config_file); });
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"scimd: SCIM 2.0 provisioning server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionLine(), "print the version and exit");
  int result = 0;
  ServeFlags serve_flags;
  CLI::App* serve = app.add_subcommand("serve", "run the server");
  serve->add_option("--config", serve_flags.config_file, "YAML configuration file");
  serve->add_option("--db", serve_flags.db, "database URL");
  serve->add_option("--listen", serve_flags.listen, "HOST:PORT");
  serve->add_option("--tls-cert", serve_flags.tls_cert, "PEM certificate chain: serve HTTPS");
  serve->add_option("--tls-key", serve_flags.tls_key, "PEM private key of --tls-cert");
  serve->add_option("--threads", serve_flags.threads, "HTTP worker threads")
      ->check(CLI::Range(1, 256));
  serve->callback([&] {
    auto config = ResolveServeConfig(serve_flags);
    result = config.ok() ? RunServe(*config) : Fail(config.error().detail);
  });
  std::string db;
  CLI::App* migrate = app.add_subcommand("migrate", "apply database migrations and exit");
  migrate->add_option("--db", db, "database URL")->envname("SCIMD_DB")->required();
  migrate->callback([&] { result = RunMigrate(db); });
  TokenCreateOptions create;
  std::string revoke_name;
  AddTokenCommands(app, create, db, revoke_name, result);
  std::optional<std::string> sync_target;
  ReconcileCommand reconcile;
  SyncResourceCommand sync_one;
  AddSyncCommands(app, db, sync_target, reconcile, sync_one, result);
  TenantCommand tenant_command;
  AddTenantCommands(app, tenant_command, db, result);
  std::string checked_config;
  AddConfigCommands(app, checked_config, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(e.what());
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return result;
}

}  // namespace scim::app
