#pragma once
// The explicit list of adapter types. The app layer builds one registry at start-up
// (DefaultAdapterRegistry) and turns each configured target into an adapter with Create();
// an unknown `type` is a start-up error naming it. Adding a target type means one folder under
// src/adapters/ and one Register line in src/adapters/registry.cc.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scim/adapters/target_config.h"
#include "scim/common/result.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters {

// Validates a target's configuration block and builds its adapter. Errors are kInvalidValue
// naming the target and the offending key (missing `url`, unreadable `private_key_file`, ...).
// Factories do not contact the target.
using AdapterFactory =
    std::function<Result<std::unique_ptr<events::TargetAdapter>>(const TargetConfig& config)>;

// Adapter factories by type name. Not thread-safe while being filled; read-only afterwards.
class AdapterRegistry {
 public:
  // Adds (or replaces) the factory for `type`.
  void Register(const std::string& type, AdapterFactory factory);

  // Builds the adapter for `config` with the factory registered for `config.type`.
  // kInvalidValue: unknown type (the message names it and the known ones) or invalid block.
  Result<std::unique_ptr<events::TargetAdapter>> Create(const TargetConfig& config) const;

  // The registered type names, sorted.
  std::vector<std::string> Types() const;

 private:
  std::map<std::string, AdapterFactory> factories_;
};

// Each adapter folder's factory.cc defines one of these; it registers its type name
// ("dolibarr", "zoho_books", "crm", "webhook", "clerk").
void RegisterDolibarr(AdapterRegistry& registry);
void RegisterZohoBooks(AdapterRegistry& registry);
void RegisterCrm(AdapterRegistry& registry);
void RegisterWebhook(AdapterRegistry& registry);
void RegisterClerk(AdapterRegistry& registry);

// A registry holding every built-in adapter type.
AdapterRegistry DefaultAdapterRegistry();

}  // namespace scim::adapters
