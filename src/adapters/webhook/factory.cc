// The `webhook` target type: validates the configuration block and builds the adapter.
//   url:              receiver endpoint (required)
//   algorithm:        HS256 (default) or RS256
//   secret:           HS256 shared secret (required for HS256)
//   private_key_file: PEM RSA private key, 2048 bits or more (required for RS256)
//   issuer:           `iss` (default "scimd"); audience: `aud` (one value or a comma list)
//   key_id:           JOSE `kid`; bearer_token: sent as Authorization: Bearer
//   timeout_ms, connect_timeout_ms: HTTP timeouts
#include <memory>

#include "adapters/common/config_util.h"
#include "adapters/webhook/webhook_adapter.h"
#include "scim/adapters/registry.h"
#include "scim/common/strings.h"

namespace scim::adapters {
namespace {

Result<std::unique_ptr<events::TargetAdapter>> CreateWebhook(const TargetConfig& config) {
  SCIM_TRY(auto url, RequireUrl(config, "url"));
  SCIM_TRY(auto http, HttpOptionsFromConfig(config));
  SCIM_TRY(auto resources, ResourcesFromConfig(config, {"User", "Group"}));

  std::string algorithm = config.Get("algorithm").value_or("HS256");
  std::unique_ptr<webhook::SetSigner> signer;
  auto prefix = "target \"" + config.name + "\": ";
  if (EqualsIgnoreCase(algorithm, "HS256")) {
    SCIM_TRY(auto secret, config.Require("secret"));
    auto made = webhook::SetSigner::Hs256(secret);
    if (!made.ok()) return Error(ErrorCode::kInvalidValue, prefix + made.error().detail);
    signer = std::move(made).value();
  } else if (EqualsIgnoreCase(algorithm, "RS256")) {
    SCIM_TRY(auto path, config.Require("private_key_file"));
    auto made = webhook::SetSigner::Rs256FromPemFile(path);
    if (!made.ok()) {
      return Error(ErrorCode::kInvalidValue,
                   prefix + "setting \"private_key_file\": " + made.error().detail);
    }
    signer = std::move(made).value();
  } else {
    return Error(
        ErrorCode::kInvalidValue,
        prefix + "setting \"algorithm\" must be HS256 or RS256, not \"" + algorithm + "\"");
  }

  webhook::SetOptions options;
  options.issuer = config.Get("issuer").value_or("scimd");
  options.audience = config.Get("audience");
  options.key_id = config.Get("key_id");
  auto client = std::make_unique<webhook::WebhookClient>(url, config.Get("bearer_token"), http);
  return std::unique_ptr<events::TargetAdapter>(std::make_unique<webhook::WebhookAdapter>(
      config.name, std::move(resources), std::move(options), std::move(signer), std::move(client)));
}

}  // namespace

void RegisterWebhook(AdapterRegistry& registry) { registry.Register("webhook", CreateWebhook); }

}  // namespace scim::adapters
