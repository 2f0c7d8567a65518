#pragma once
// The commands behind the command line; each returns an exit code and prints its own output.

#include <optional>
#include <string>

#include "scim/app/config.h"
#include "scim/store/database.h"

namespace scim::app {

struct TokenCreateOptions {
  std::string db;
  std::string name;
  std::string tenant;
  std::string scopes = "scim:read,scim:write";
  std::optional<int> expires_days;
};

// `scimd sync reconcile` (scim/delivery/reconcile.h).
struct ReconcileCommand {
  std::string db;  // empty: the configuration's database
  std::string config_file;
  std::string target;
  bool dry_run = false;
};

// `scimd tenant create|disable NAME [--display-name TEXT]`.
struct TenantCommand {
  std::string db;
  std::string name;
  std::optional<std::string> display_name;
};

// `scimd sync resource ID [--target NAME] [--tenant T]`.
struct SyncResourceCommand {
  std::string db;
  std::string id;
  std::optional<std::string> target;
  std::optional<std::string> tenant;
};

int RunServe(const Config& config);
int RunMigrate(const std::string& db);
int RunTokenCreate(const TokenCreateOptions& options);
int RunTokenList(const std::string& db);
int RunTokenRevoke(const std::string& db, const std::string& name);
int RunSyncStatus(const std::string& db);
int RunSyncRetry(const std::string& db, const std::optional<std::string>& target);
// Compares the target's links with what it holds and repairs the differences; exit 1 when a
// repair failed.
int RunSyncReconcile(const ReconcileCommand& command);

int RunTenantCreate(const TenantCommand& command);
int RunTenantList(const std::string& db);
int RunTenantDisable(const TenantCommand& command);
int RunSyncResource(const SyncResourceCommand& command);

// The actor of the CLI's audit entries: "cli:" and the OS user.
std::string CliActor();
// Writes an audit entry for a CLI action (a failure is a warning on stderr, not an exit).
void AuditCli(store::Database& db, const std::string& tenant, const std::string& action,
              const std::string& resource_type, const std::string& resource_id,
              const std::string& changes = "");
// `text` as a JSON string literal.
std::string JsonQuote(const std::string& text);

// `scimd config check`: loads and validates `file` (ParseConfig) and builds every target's
// adapter without starting it; prints "ok" and returns 0, else one error line and 1.
int RunConfigCheck(const std::string& file);
// Builds each configured target's adapter (validating its block) and drops it.
Status CheckTargets(const Config& config);
// "scimd <version>" or "scimd <version> (<git commit>)", for --version.
std::string VersionLine();

// Prints "scimd: <message>" on stderr and returns 1.
int Fail(const std::string& message);

}  // namespace scim::app
