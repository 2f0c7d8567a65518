// The `zoho_books` target type: validates the configuration block and builds the adapter.
//   api_url:          Books API root, e.g. https://www.zohoapis.eu/books/v3 (required)
//   accounts_url:     full OAuth token URL, e.g. https://accounts.zoho.eu/oauth/v2/token (required)
//   organization_id, client_id, client_secret, refresh_token (required)
//   requests_per_minute: client-side budget (default 100)
//   max_rate_wait_ms: longest wait for a slot before answering kRetry (default 10000)
//   role_mapping:     SCIM role value → Zoho role_id (map, or "admin=982...,staff=982...")
//   default_role_id:  role_id for users whose role is not mapped (default: none sent)
//   timeout_ms, connect_timeout_ms: HTTP timeouts
//   email_lookup_cache_seconds: how long one listing of every user answers the e-mail look-ups
//                     of inactive users without a link (default 0: each look-up lists; see
//                     ZohoBooksAdapter::FindInactive)
#include <memory>

#include "adapters/common/config_util.h"
#include "adapters/zoho_books/zoho_books_adapter.h"
#include "scim/adapters/registry.h"

namespace scim::adapters {
namespace {

Result<std::unique_ptr<events::TargetAdapter>> CreateZohoBooks(const TargetConfig& config) {
  zoho_books::ZohoBooksSettings settings;
  SCIM_TRY(auto api_url, RequireUrl(config, "api_url"));
  settings.api_url = api_url;
  SCIM_TRY(auto accounts_url, RequireUrl(config, "accounts_url"));
  settings.accounts_url = accounts_url;
  for (auto [key, field] : {std::pair{"organization_id", &settings.organization_id},
                            std::pair{"client_id", &settings.client_id},
                            std::pair{"client_secret", &settings.client_secret},
                            std::pair{"refresh_token", &settings.refresh_token}}) {
    SCIM_TRY(auto value, config.Require(key));
    *field = value;
  }
  SCIM_TRY(auto rpm, IntSetting(config, "requests_per_minute", 100, 1, 100000));
  settings.requests_per_minute = static_cast<int>(rpm);
  SCIM_TRY(auto max_wait, IntSetting(config, "max_rate_wait_ms", 10000, 0, 600000));
  settings.max_rate_wait = std::chrono::milliseconds(max_wait);
  SCIM_TRY(auto http, HttpOptionsFromConfig(config));
  settings.http = http;
  SCIM_TRY(auto resources, ResourcesFromConfig(config, {"User"}));

  zoho_books::RoleMapping roles;
  SCIM_TRY(auto mapping, MapSetting(config, "role_mapping"));
  roles.by_scim_role = std::move(mapping);
  roles.default_role_id = config.Get("default_role_id");

  SCIM_TRY(auto index_age, IntSetting(config, "email_lookup_cache_seconds", 0, 0, 3600));

  auto client = std::make_unique<zoho_books::ZohoBooksClient>(std::move(settings));
  return std::unique_ptr<events::TargetAdapter>(std::make_unique<zoho_books::ZohoBooksAdapter>(
      config.name, std::move(resources), std::move(roles), std::move(client),
      std::chrono::seconds(index_age)));
}

}  // namespace

void RegisterZohoBooks(AdapterRegistry& registry) {
  registry.Register("zoho_books", CreateZohoBooks);
}

}  // namespace scim::adapters
