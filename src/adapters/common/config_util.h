#pragma once
// Helpers the adapters' factories share to validate a TargetConfig. Every error is
// kInvalidValue and names the target and the key.

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "adapters/common/http_client.h"
#include "scim/adapters/target_config.h"
#include "scim/common/result.h"

namespace scim::adapters {

// A required http:// or https:// URL, without a trailing slash.
Result<std::string> RequireUrl(const TargetConfig& config, const std::string& key);

// An optional integer setting in [min, max]; `fallback` when absent.
Result<int64_t> IntSetting(const TargetConfig& config, const std::string& key, int64_t fallback,
                           int64_t min, int64_t max);

// `timeout_ms` (default 30000) and `connect_timeout_ms` (default 10000).
Result<HttpClientOptions> HttpOptionsFromConfig(const TargetConfig& config);

// The resource types the target takes: `resources` normalized to "User"/"Group" (plural and
// any case accepted), or all of `supported` when empty. A type outside `supported` is an error.
Result<std::set<std::string>> ResourcesFromConfig(const TargetConfig& config,
                                                  const std::set<std::string>& supported);

// A map setting: the flattened keys "<key>.<name>" plus the inline form "name=value,name=value"
// under `key` itself. Names are lower-cased (SCIM role values compare case-insensitively).
Result<std::map<std::string, std::string>> MapSetting(const TargetConfig& config,
                                                      const std::string& key);

}  // namespace scim::adapters
