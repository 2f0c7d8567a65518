#include "scim/app/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace scim::app {
namespace {

Error ConfigError(const std::string& source, const std::string& what) {
  return Error(ErrorCode::kInvalidValue, source + ": " + what);
}

// Flattens nested maps into dotted keys ("role_mapping.admin"); lists are skipped here.
void FlattenSettings(const YAML::Node& node, const std::string& prefix,
                     std::map<std::string, std::string>& out) {
  for (const auto& kv : node) {
    std::string key = prefix + kv.first.as<std::string>();
    if (kv.second.IsScalar()) {
      out[key] = kv.second.as<std::string>();
    } else if (kv.second.IsMap() && key != "retry") {
      FlattenSettings(kv.second, key + ".", out);
    }
  }
}

Result<adapters::TargetConfig> ParseTarget(const YAML::Node& node, const std::string& source) {
  adapters::TargetConfig target;
  if (!node.IsMap() || !node["name"] || !node["type"]) {
    return ConfigError(source, "every target needs a name and a type");
  }
  target.name = node["name"].as<std::string>();
  target.type = node["type"].as<std::string>();
  FlattenSettings(node, "", target.settings);
  target.settings.erase("name");
  target.settings.erase("type");
  if (node["resources"] && node["resources"].IsSequence()) {
    for (const auto& r : node["resources"]) target.resources.push_back(r.as<std::string>());
  }
  if (const YAML::Node retry = node["retry"]) {
    target.retry.max_attempts = retry["max_attempts"].as<int>(target.retry.max_attempts);
    target.retry.initial_backoff_ms =
        retry["initial_backoff_ms"].as<int64_t>(target.retry.initial_backoff_ms);
    target.retry.max_backoff_ms = retry["max_backoff_ms"].as<int64_t>(target.retry.max_backoff_ms);
  }
  return target;
}

Result<Config> ParseNode(const YAML::Node& root, const std::string& source) {
  Config config;
  if (!root.IsMap()) return ConfigError(source, "the configuration must be a YAML mapping");
  config.listen = root["listen"].as<std::string>(config.listen);
  config.database = root["database"].as<std::string>(config.database);
  config.public_url = root["public_url"].as<std::string>(config.public_url);
  config.threads = root["threads"].as<int>(config.threads);
  if (const YAML::Node limits = root["limits"]) {
    Limits& l = config.limits;
    l.max_body_bytes = limits["max_body_bytes"].as<int64_t>(l.max_body_bytes);
    l.bulk_max_operations = limits["bulk_max_operations"].as<int64_t>(l.bulk_max_operations);
    l.rate_limit_per_minute = limits["rate_limit_per_minute"].as<int64_t>(l.rate_limit_per_minute);
    l.max_page_size = limits["max_page_size"].as<int64_t>(l.max_page_size);
    l.max_connections = limits["max_connections"].as<int64_t>(l.max_connections);
    l.idle_timeout_seconds = limits["idle_timeout_seconds"].as<int64_t>(l.idle_timeout_seconds);
    l.auth_failures_per_minute =
        limits["auth_failures_per_minute"].as<int64_t>(l.auth_failures_per_minute);
    if (l.max_connections < 0 || l.idle_timeout_seconds < 1) {
      return ConfigError(source, "limits: max_connections must be >= 0, idle_timeout_seconds >= 1");
    }
  }
  if (const YAML::Node tls = root["tls"]) {
    config.tls.cert_file = tls["cert_file"].as<std::string>("");
    config.tls.key_file = tls["key_file"].as<std::string>("");
    config.tls.client_ca_file = tls["client_ca_file"].as<std::string>("");
  }
  config.insecure_http = root["insecure_http"].as<bool>(false);
  if (const YAML::Node log = root["log"]) {
    config.log.format = log["format"].as<std::string>(config.log.format);
    config.log.access = log["access"].as<bool>(config.log.access);
    if (config.log.format != "json" && config.log.format != "text") {
      return ConfigError(source, "log.format: must be json or text");
    }
  }
  if (const YAML::Node delivery = root["delivery"]) {
    DeliverySettings& d = config.delivery;
    d.lease_seconds = delivery["lease_seconds"].as<int64_t>(d.lease_seconds);
    d.workers_per_target = delivery["workers_per_target"].as<int64_t>(d.workers_per_target);
    d.poll_interval_ms = delivery["poll_interval_ms"].as<int64_t>(d.poll_interval_ms);
    if (d.lease_seconds < 1 || d.workers_per_target < 1 || d.workers_per_target > 64 ||
        d.poll_interval_ms < 1) {
      return ConfigError(source,
                         "delivery: lease_seconds and poll_interval_ms must be positive, "
                         "workers_per_target between 1 and 64");
    }
  }
  if (const YAML::Node targets = root["targets"]) {
    for (const auto& node : targets) {
      auto target = ParseTarget(node, source);
      if (!target.ok()) return target.error();
      config.targets.push_back(std::move(*target));
    }
  }
  return config;
}

}  // namespace

Result<std::string> SubstituteEnv(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find("${", pos);
    if (start == std::string::npos) break;
    size_t end = text.find('}', start);
    if (end == std::string::npos) break;
    std::string name = text.substr(start + 2, end - start - 2);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return Error(ErrorCode::kInvalidValue, "environment variable " + name + " is not set");
    }
    out.append(text, pos, start - pos).append(value);
    pos = end + 1;
  }
  out.append(text, pos);
  return out;
}

Result<Config> ParseConfig(const std::string& yaml_text, const std::string& source) {
  auto substituted = SubstituteEnv(yaml_text);
  if (!substituted.ok()) return ConfigError(source, substituted.error().detail);
  try {
    return ParseNode(YAML::Load(*substituted), source);
  } catch (const YAML::Exception& e) {
    return ConfigError(source, e.what());
  }
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(ErrorCode::kInvalidValue, "cannot read configuration file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseConfig(buffer.str(), path);
}

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error(ErrorCode::kInvalidValue,
                 "listen address must be HOST:PORT, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  char* end = nullptr;
  long port = std::strtol(listen.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535 || colon + 1 == listen.size()) {
    return Error(ErrorCode::kInvalidValue, "invalid port in listen address '" + listen + "'");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace scim::app
