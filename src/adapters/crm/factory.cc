// The `crm` target type: validates the configuration block and builds the adapter.
//   url:          the CRM API root (required)
//   token:        bearer token (required)
//   role_mapping: SCIM role value → CRM role (admin | manager | sales), a map or "a=b,c=d"
//   default_role: CRM role for users whose role is not mapped (default: none sent)
//   timeout_ms, connect_timeout_ms: HTTP timeouts
//   requests_per_minute: client-side budget per token (default 100, the CRM's own default)
//   max_rate_wait_ms: longest wait for a slot before answering kRetry (default 10000)
#include <memory>

#include "adapters/common/config_util.h"
#include "adapters/crm/crm_adapter.h"
#include "scim/adapters/registry.h"

namespace scim::adapters {
namespace {

Result<std::unique_ptr<events::TargetAdapter>> CreateCrm(const TargetConfig& config) {
  SCIM_TRY(auto url, RequireUrl(config, "url"));
  SCIM_TRY(auto token, config.Require("token"));
  SCIM_TRY(auto http, HttpOptionsFromConfig(config));
  SCIM_TRY(auto resources, ResourcesFromConfig(config, {"User", "Group"}));
  crm::CrmRoleMapping roles;
  SCIM_TRY(auto mapping, MapSetting(config, "role_mapping"));
  roles.by_scim_role = std::move(mapping);
  roles.default_role = config.Get("default_role");
  SCIM_TRY(auto rpm, IntSetting(config, "requests_per_minute", 100, 1, 100000));
  SCIM_TRY(auto max_wait, IntSetting(config, "max_rate_wait_ms", 10000, 0, 600000));
  auto client = std::make_unique<crm::CrmClient>(url, token, http, static_cast<int>(rpm),
                                                 std::chrono::milliseconds(max_wait));
  return std::unique_ptr<events::TargetAdapter>(std::make_unique<crm::CrmAdapter>(
      config.name, std::move(resources), std::move(roles), std::move(client)));
}

}  // namespace

void RegisterCrm(AdapterRegistry& registry) { registry.Register("crm", CreateCrm); }

}  // namespace scim::adapters
