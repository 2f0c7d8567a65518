#include "scim/adapters/registry.h"

namespace scim::adapters {

void AdapterRegistry::Register(const std::string& type, AdapterFactory factory) {
  factories_[type] = std::move(factory);
}

Result<std::unique_ptr<events::TargetAdapter>> AdapterRegistry::Create(
    const TargetConfig& config) const {
  auto it = factories_.find(config.type);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [type, factory] : factories_) known += (known.empty() ? "" : ", ") + type;
    return Error(ErrorCode::kInvalidValue, "target \"" + config.name + "\": unknown type \"" +
                                               config.type + "\" (known types: " + known + ")");
  }
  if (config.name.empty()) {
    return Error(ErrorCode::kInvalidValue, "a target of type \"" + config.type + "\" has no name");
  }
  return it->second(config);
}

std::vector<std::string> AdapterRegistry::Types() const {
  std::vector<std::string> types;
  for (const auto& [type, factory] : factories_) types.push_back(type);
  return types;
}

AdapterRegistry DefaultAdapterRegistry() {
  AdapterRegistry registry;
  RegisterDolibarr(registry);
  RegisterZohoBooks(registry);
  RegisterCrm(registry);
  RegisterWebhook(registry);
  RegisterClerk(registry);
  return registry;
}

}  // namespace scim::adapters
