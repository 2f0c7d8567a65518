// `scimd sync reconcile --db URL --config FILE --target NAME [--dry-run]` (delivery/reconcile.h).

#include <iostream>

#include "app/commands.h"
#include "scim/adapters/registry.h"
#include "scim/delivery/reconcile.h"
#include "scim/store/database.h"

namespace scim::app {
namespace {

// The adapter of the configured target `name`.
Result<std::unique_ptr<events::TargetAdapter>> BuildAdapter(const Config& config,
                                                            const std::string& name) {
  for (const adapters::TargetConfig& target : config.targets) {
    if (target.name == name) return adapters::DefaultAdapterRegistry().Create(target);
  }
  std::string known;
  for (const adapters::TargetConfig& target : config.targets) {
    known += (known.empty() ? "" : ", ") + target.name;
  }
  return Error(ErrorCode::kInvalidValue, "no target named '" + name + "' in the configuration" +
                                             (known.empty() ? "" : " (targets: " + known + ")"));
}

}  // namespace

int RunSyncReconcile(const ReconcileCommand& command) {
  auto config = LoadConfigFile(command.config_file);
  if (!config.ok()) return Fail(config.error().detail);
  auto adapter = BuildAdapter(*config, command.target);
  if (!adapter.ok()) return Fail(adapter.error().detail);
  std::string url = command.db.empty() ? config->database : command.db;
  auto db = store::Database::Open(url, 2);
  if (!db.ok()) return Fail(db.error().detail);
  Status migrated = (*db)->Migrate();
  if (!migrated.ok()) return Fail(migrated.error().detail);
  auto report = delivery::Reconcile(**db, **adapter, {command.dry_run});
  if (!report.ok()) return Fail(report.error().detail);
  std::cout << delivery::ReconcileReportText(command.target, *report, command.dry_run)
            << std::flush;
  return report->errors > 0 ? 1 : 0;
}

}  // namespace scim::app
