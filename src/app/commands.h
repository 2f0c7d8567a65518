#pragma once
// The commands behind the command line; each returns an exit code and prints its own output.

#include <optional>
#include <string>

#include "scim/app/config.h"

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
