#include "adapters/common/config_util.h"

#include <charconv>

#include "scim/common/strings.h"

namespace scim::adapters {
namespace {

Error Invalid(const TargetConfig& config, const std::string& key, const std::string& why) {
  return Error(ErrorCode::kInvalidValue,
               "target \"" + config.name + "\": setting \"" + key + "\" " + why);
}

}  // namespace

Result<std::string> RequireUrl(const TargetConfig& config, const std::string& key) {
  SCIM_TRY(auto url, config.Require(key));
  std::string value = url;
  if (!StartsWithIgnoreCase(value, "http://") && !StartsWithIgnoreCase(value, "https://")) {
    return Invalid(config, key, "must be an http:// or https:// URL");
  }
  while (value.size() > 8 && value.back() == '/') value.pop_back();
  return value;
}

Result<int64_t> IntSetting(const TargetConfig& config, const std::string& key, int64_t fallback,
                           int64_t min, int64_t max) {
  auto text = config.Get(key);
  if (!text) return fallback;
  std::string_view v = Trim(*text);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc() || end != v.data() + v.size()) {
    return Invalid(config, key, "must be an integer");
  }
  if (value < min || value > max) {
    return Invalid(config, key,
                   "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

Result<HttpClientOptions> HttpOptionsFromConfig(const TargetConfig& config) {
  HttpClientOptions options;
  SCIM_TRY(auto timeout, IntSetting(config, "timeout_ms", 30000, 100, 600000));
  SCIM_TRY(auto connect, IntSetting(config, "connect_timeout_ms", 10000, 100, 600000));
  options.timeout = std::chrono::milliseconds(timeout);
  options.connect_timeout = std::chrono::milliseconds(connect);
  return options;
}

Result<std::set<std::string>> ResourcesFromConfig(const TargetConfig& config,
                                                  const std::set<std::string>& supported) {
  if (config.resources.empty()) return supported;
  std::set<std::string> out;
  for (const std::string& raw : config.resources) {
    std::string name = ToLower(Trim(raw));
    if (name.ends_with('s')) name.pop_back();
    std::string normalized = name == "user" ? "User" : name == "group" ? "Group" : raw;
    if (!supported.contains(normalized)) {
      std::string list;
      for (const auto& s : supported) list += (list.empty() ? "" : ", ") + s;
      return Error(ErrorCode::kInvalidValue, "target \"" + config.name + "\": resource \"" + raw +
                                                 "\" is not supported by type \"" + config.type +
                                                 "\" (supported: " + list + ")");
    }
    out.insert(normalized);
  }
  return out;
}

Result<std::map<std::string, std::string>> MapSetting(const TargetConfig& config,
                                                      const std::string& key) {
  std::map<std::string, std::string> out;
  if (auto inline_form = config.Get(key)) {
    for (const std::string& pair : Split(*inline_form, ',')) {
      if (Trim(pair).empty()) continue;
      auto eq = pair.find('=');
      if (eq == std::string::npos) {
        return Invalid(config, key, "must be a map or \"name=value,name=value\"");
      }
      out[ToLower(Trim(std::string_view(pair).substr(0, eq)))] =
          std::string(Trim(std::string_view(pair).substr(eq + 1)));
    }
  }
  std::string prefix = key + ".";
  for (auto it = config.settings.lower_bound(prefix);
       it != config.settings.end() && it->first.starts_with(prefix); ++it) {
    out[ToLower(it->first.substr(prefix.size()))] = it->second;
  }
  return out;
}

}  // namespace scim::adapters
