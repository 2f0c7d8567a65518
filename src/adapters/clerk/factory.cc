// The `clerk` target type: validates the configuration block and builds the adapter.
//   url:          the Backend API base including /v1 (default https://api.clerk.com/v1)
//   secret_key:   the instance's secret key, sent as a bearer token (required)
//   role_map:     SCIM role value → Clerk role key (org:admin, org:<custom>), a map or "a=b,c=d"
//   default_role: role key for members whose role is not mapped (default org:member)
//   timeout_ms, connect_timeout_ms: HTTP timeouts
//   requests_per_minute: client-side budget per secret key (default 600 = Clerk's 100 per 10 s
//                        on development instances)
//   max_rate_wait_ms: longest wait for a slot before answering kRetry (default 10000)
#include <memory>

#include "adapters/clerk/clerk_adapter.h"
#include "adapters/common/config_util.h"
#include "scim/adapters/registry.h"

namespace scim::adapters {
namespace {

constexpr const char* kDefaultClerkUrl = "https://api.clerk.com/v1";

Result<clerk::ClerkRoleMapping> RolesFromConfig(const TargetConfig& config) {
  clerk::ClerkRoleMapping roles;
  SCIM_TRY(auto mapping, MapSetting(config, "role_map"));
  roles.by_scim_role = std::move(mapping);
  for (const auto& [scim_role, key] : roles.by_scim_role) {
    if (key.empty()) {
      return Error(ErrorCode::kInvalidValue, "target \"" + config.name + "\": role_map." +
                                                 scim_role + " is empty (a Clerk role key)");
    }
  }
  if (auto fallback = config.Get("default_role"); fallback && !fallback->empty()) {
    roles.default_role = *fallback;
  }
  return roles;
}

Result<std::unique_ptr<events::TargetAdapter>> CreateClerk(const TargetConfig& config) {
  Result<std::string> url = std::string(kDefaultClerkUrl);
  if (config.Get("url")) url = RequireUrl(config, "url");
  if (!url.ok()) return url.error();
  SCIM_TRY(auto secret, config.Require("secret_key"));
  SCIM_TRY(auto http, HttpOptionsFromConfig(config));
  SCIM_TRY(auto resources, ResourcesFromConfig(config, {"User", "Group"}));
  SCIM_TRY(auto roles, RolesFromConfig(config));
  SCIM_TRY(auto rpm, IntSetting(config, "requests_per_minute", 600, 1, 100000));
  SCIM_TRY(auto max_wait, IntSetting(config, "max_rate_wait_ms", 10000, 0, 600000));
  auto client = std::make_unique<clerk::ClerkClient>(*url, secret, http, static_cast<int>(rpm),
                                                     std::chrono::milliseconds(max_wait));
  return std::unique_ptr<events::TargetAdapter>(std::make_unique<clerk::ClerkAdapter>(
      config.name, std::move(resources), std::move(roles), std::move(client)));
}

}  // namespace

void RegisterClerk(AdapterRegistry& registry) { registry.Register("clerk", CreateClerk); }

}  // namespace scim::adapters
