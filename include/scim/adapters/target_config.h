#pragma once
// One `targets[]` block of the configuration file, as the app layer hands it to an adapter
// factory: YAML already parsed and `${ENV}` references already substituted.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/result.h"

namespace scim::adapters {

// A target's configuration block.
struct TargetConfig {
  std::string name;  // `name`: unique among targets, used in links, logs and idempotency keys
  std::string type;  // `type`: selects the factory in the AdapterRegistry
  // Every other scalar key of the block (`url`, `api_key`, `organization_id`, ...). Nested maps
  // are flattened with dots: `role_mapping: {admin: "982..."}` becomes "role_mapping.admin".
  std::map<std::string, std::string> settings;
  // `resources`: "User"/"Group" (or "Users"/"Groups"); empty means every type the adapter
  // supports.
  std::vector<std::string> resources;
  // (`retry:` is the delivery engine's: delivery::RetryPolicy, parsed by the app layer.)

  // The value of a setting, or nullopt when it is absent or empty.
  std::optional<std::string> Get(const std::string& key) const {
    auto it = settings.find(key);
    if (it == settings.end() || it->second.empty()) return std::nullopt;
    return it->second;
  }

  // The value of a required setting; kInvalidValue naming the target and key when missing.
  Result<std::string> Require(const std::string& key) const {
    auto value = Get(key);
    if (!value) {
      return Error(ErrorCode::kInvalidValue,
                   "target \"" + name + "\": missing required setting \"" + key + "\"");
    }
    return *value;
  }
};

}  // namespace scim::adapters
