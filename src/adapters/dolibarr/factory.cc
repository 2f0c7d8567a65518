// The `dolibarr` target type: validates the configuration block and builds the adapter.
//   url:              <dolibarr root>/api/index.php (required)
//   api_key:          DOLAPIKEY of a user with societe lire/creer/supprimer (required)
//   department_field: extra field attribute receiving the Enterprise department (default
//                     "department"; sent as array_options.options_<name>)
//   department_field_recheck_seconds: how long the answer "is that extra field defined?" is
//                     trusted (default 600)
//   timeout_ms, connect_timeout_ms: HTTP timeouts
#include <memory>

#include "adapters/common/config_util.h"
#include "adapters/dolibarr/dolibarr_adapter.h"
#include "scim/adapters/registry.h"

namespace scim::adapters {
namespace {

Result<std::unique_ptr<events::TargetAdapter>> CreateDolibarr(const TargetConfig& config) {
  SCIM_TRY(auto url, RequireUrl(config, "url"));
  SCIM_TRY(auto api_key, config.Require("api_key"));
  SCIM_TRY(auto http, HttpOptionsFromConfig(config));
  SCIM_TRY(auto resources, ResourcesFromConfig(config, {"User"}));
  std::string department_field = config.Get("department_field").value_or("department");
  SCIM_TRY(auto recheck, IntSetting(config, "department_field_recheck_seconds", 600, 1, 86400));
  auto client = std::make_unique<dolibarr::DolibarrClient>(url, api_key, department_field, http);
  return std::unique_ptr<events::TargetAdapter>(std::make_unique<dolibarr::DolibarrAdapter>(
      config.name, std::move(resources), std::move(client), std::chrono::seconds(recheck)));
}

}  // namespace

void RegisterDolibarr(AdapterRegistry& registry) { registry.Register("dolibarr", CreateDolibarr); }

}  // namespace scim::adapters
