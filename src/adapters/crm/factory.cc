// The `crm` target type: validates the configuration block and builds the adapter.
//   url:          the CRM API root (required)
//   token:        bearer token (required)
//   role_mapping: SCIM role value → CRM role (admin | manager | sales), a map or "a=b,c=d"
//   default_role: CRM role for users whose role is not mapped (default: none sent)
//   timeout_ms, connect_timeout_ms: HTTP timeouts
#include <memory>

#include "adapters/common/config_util.h"
#include "adapters/crm/crm_adapter.h"
#include "scim/adapters/registry.h"

namespace scim::adapters {
namespace {

Result<std::unique_ptr<events::TargetAdapter>> CreateCrm(const TargetConfig& config) {
  auto url = RequireUrl(config, "url");
  if (!url.ok()) return url.error();
  auto token = config.Require("token");
  if (!token.ok()) return token.error();
  auto http = HttpOptionsFromConfig(config);
  if (!http.ok()) return http.error();
  auto resources = ResourcesFromConfig(config, {"User", "Group"});
  if (!resources.ok()) return resources.error();
  crm::CrmRoleMapping roles;
  auto mapping = MapSetting(config, "role_mapping");
  if (!mapping.ok()) return mapping.error();
  roles.by_scim_role = std::move(mapping).value();
  roles.default_role = config.Get("default_role");
  auto client = std::make_unique<crm::CrmClient>(*url, *token, *http);
  return std::unique_ptr<events::TargetAdapter>(std::make_unique<crm::CrmAdapter>(
      config.name, std::move(resources).value(), std::move(roles), std::move(client)));
}

}  // namespace

void RegisterCrm(AdapterRegistry& registry) { registry.Register("crm", CreateCrm); }

}  // namespace scim::adapters
