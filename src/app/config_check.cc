// `scimd config check --config FILE`: the checks `serve` makes on its configuration, without
// opening the database or the listening socket.

#include <iostream>

#include "app/commands.h"
#include "scim/adapters/registry.h"

namespace scim::app {

Status CheckTargets(const Config& config) {
  adapters::AdapterRegistry registry = adapters::DefaultAdapterRegistry();
  for (const adapters::TargetConfig& target : config.targets) {
    auto adapter = registry.Create(target);  // validates the block; contacts nothing
    if (!adapter.ok()) return adapter.error();
  }
  return OkStatus();
}

int RunConfigCheck(const std::string& file) {
  auto config = LoadConfigFile(file);
  if (!config.ok()) return Fail(config.error().detail);
  Status targets = CheckTargets(*config);
  if (!targets.ok()) return Fail(file + ": targets: " + targets.error().detail);
  std::cout << "ok" << std::endl;
  return 0;
}

}  // namespace scim::app
