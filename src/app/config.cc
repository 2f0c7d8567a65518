#include "scim/app/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace scim::app {
namespace {

std::string FirstLineOf(const std::string& text) { return text.substr(0, text.find('\n')); }

// Errors name the file and the key: "scimd.yaml: limits.max_body_bytes: must be ...".
class Checker {
 public:
  explicit Checker(std::string source) : source_(std::move(source)) {}

  Error Fail(const std::string& key, const std::string& what) const {
    return Error(ErrorCode::kInvalidValue, source_ + ": " + (key.empty() ? "" : key + ": ") + what);
  }

  // kInvalidValue for the first key of the mapping `node` (at `path`) not in `known`.
  Status KnownKeys(const YAML::Node& node, const std::string& path,
                   const std::set<std::string>& known) const {
    if (!node.IsMap()) return Fail(path, "must be a mapping");
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      if (known.count(key) == 0) return Fail(Join(path, key), "unknown key");
    }
    return OkStatus();
  }

  // node[key] as an integer >= minimum into `out` (kept when absent).
  Status Integer(const YAML::Node& node, const std::string& path, const std::string& key,
                 int64_t minimum, int64_t& out) const {
    const YAML::Node value = node[key];
    if (!value) return OkStatus();
    int64_t parsed = 0;
    if (!value.IsScalar() || !YAML::convert<int64_t>::decode(value, parsed) || parsed < minimum) {
      return Fail(Join(path, key), minimum == 1 ? "must be a positive integer"
                                   : minimum == 0
                                       ? "must be a non-negative integer"
                                       : "must be an integer >= " + std::to_string(minimum));
    }
    out = parsed;
    return OkStatus();
  }

  Status String(const YAML::Node& node, const std::string& path, const std::string& key,
                std::string& out) const {
    const YAML::Node value = node[key];
    if (!value) return OkStatus();
    if (!value.IsScalar()) return Fail(Join(path, key), "must be a string");
    out = value.as<std::string>();
    return OkStatus();
  }

  Status Bool(const YAML::Node& node, const std::string& path, const std::string& key,
              bool& out) const {
    const YAML::Node value = node[key];
    if (!value) return OkStatus();
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out)) {
      return Fail(Join(path, key), "must be true or false");
    }
    return OkStatus();
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

 private:
  std::string source_;
};

// Replaces `${NAME}` in every scalar value, in place; the error names the key.
Status SubstituteNode(YAML::Node node, const std::string& path, const Checker& check) {
  if (node.IsScalar()) {
    std::string text = node.Scalar();
    if (text.find("${") == std::string::npos) return OkStatus();
    auto substituted = SubstituteEnv(text);
    if (!substituted.ok()) return check.Fail(path, substituted.error().detail);
    node = *substituted;
  } else if (node.IsMap()) {
    for (auto kv : node) {
      SCIM_RETURN_IF_ERROR(
          SubstituteNode(kv.second, Checker::Join(path, kv.first.as<std::string>()), check));
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      SCIM_RETURN_IF_ERROR(SubstituteNode(node[i], path + "[" + std::to_string(i) + "]", check));
    }
  }
  return OkStatus();
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

Status ParseRetry(const YAML::Node& retry, const std::string& path, const Checker& check,
                  delivery::RetryPolicy& out) {
  SCIM_RETURN_IF_ERROR(
      check.KnownKeys(retry, path, {"max_attempts", "initial_backoff_ms", "max_backoff_ms"}));
  int64_t attempts = out.max_attempts;
  SCIM_RETURN_IF_ERROR(check.Integer(retry, path, "max_attempts", 1, attempts));
  if (attempts > 1000000) return check.Fail(path + ".max_attempts", "must be at most 1000000");
  out.max_attempts = static_cast<int>(attempts);
  SCIM_RETURN_IF_ERROR(check.Integer(retry, path, "initial_backoff_ms", 1, out.initial_backoff_ms));
  return check.Integer(retry, path, "max_backoff_ms", 1, out.max_backoff_ms);
}

Result<adapters::TargetConfig> ParseTarget(const YAML::Node& node, const std::string& path,
                                           const Checker& check, delivery::RetryPolicy& retry_out) {
  adapters::TargetConfig target;
  if (!node.IsMap()) return check.Fail(path, "must be a mapping");
  SCIM_RETURN_IF_ERROR(check.String(node, path, "name", target.name));
  SCIM_RETURN_IF_ERROR(check.String(node, path, "type", target.type));
  if (target.name.empty()) return check.Fail(path + ".name", "every target needs a name");
  if (target.type.empty()) return check.Fail(path + ".type", "every target needs a type");
  FlattenSettings(node, "", target.settings);
  target.settings.erase("name");
  target.settings.erase("type");
  if (const YAML::Node resources = node["resources"]) {
    if (!resources.IsSequence()) return check.Fail(path + ".resources", "must be a list");
    for (const auto& r : resources) {
      if (!r.IsScalar()) return check.Fail(path + ".resources", "must be a list of strings");
      target.resources.push_back(r.as<std::string>());
    }
  }
  if (const YAML::Node retry = node["retry"]) {
    SCIM_RETURN_IF_ERROR(ParseRetry(retry, path + ".retry", check, retry_out));
  }
  return target;
}

Status ParseTargets(const YAML::Node& targets, const Checker& check, Config& config) {
  if (!targets.IsSequence()) return check.Fail("targets", "must be a list");
  std::set<std::string> names;
  for (size_t i = 0; i < targets.size(); ++i) {
    delivery::RetryPolicy retry;
    auto target = ParseTarget(targets[i], "targets[" + std::to_string(i) + "]", check, retry);
    if (!target.ok()) return target.error();
    if (!names.insert(target->name).second) {
      return check.Fail("targets[" + std::to_string(i) + "].name",
                        "duplicate target name \"" + target->name + "\"");
    }
    config.target_retry[target->name] = retry;
    config.targets.push_back(std::move(*target));
  }
  return OkStatus();
}

Status ParseLimits(const YAML::Node& node, const Checker& check, Limits& l) {
  SCIM_RETURN_IF_ERROR(
      check.KnownKeys(node, "limits",
                      {"max_body_bytes", "bulk_max_operations", "rate_limit_per_minute",
                       "max_connections", "max_values_per_attribute", "max_page_size",
                       "idle_timeout_seconds", "auth_failures_per_minute"}));
  // 0 switches the per-token rate limit off (the benchmarks do).
  SCIM_RETURN_IF_ERROR(
      check.Integer(node, "limits", "rate_limit_per_minute", 0, l.rate_limit_per_minute));
  for (auto [key, field] : {std::pair{"max_body_bytes", &l.max_body_bytes},
                            std::pair{"bulk_max_operations", &l.bulk_max_operations},
                            std::pair{"max_connections", &l.max_connections},
                            std::pair{"max_values_per_attribute", &l.max_values_per_attribute},
                            std::pair{"max_page_size", &l.max_page_size},
                            std::pair{"idle_timeout_seconds", &l.idle_timeout_seconds},
                            std::pair{"auth_failures_per_minute", &l.auth_failures_per_minute}}) {
    SCIM_RETURN_IF_ERROR(check.Integer(node, "limits", key, 1, *field));
  }
  return OkStatus();
}

// `delivery.breaker` (src/delivery/breaker.h): failures 1..1000; probe intervals in whole
// seconds, 1 s to one day, probe_max_seconds not below probe_min_seconds.
Status ParseBreaker(const YAML::Node& node, const Checker& check, delivery::BreakerPolicy& b) {
  const std::string path = "delivery.breaker";
  SCIM_RETURN_IF_ERROR(
      check.KnownKeys(node, path, {"failures", "probe_min_seconds", "probe_max_seconds"}));
  int64_t failures = b.open_after;
  int64_t min_s = b.probe_initial_ms / 1000;
  int64_t max_s = b.probe_max_ms / 1000;
  SCIM_RETURN_IF_ERROR(check.Integer(node, path, "failures", 1, failures));
  if (failures > 1000) return check.Fail(path + ".failures", "must be between 1 and 1000");
  constexpr int64_t kDay = 86400;
  SCIM_RETURN_IF_ERROR(check.Integer(node, path, "probe_min_seconds", 1, min_s));
  if (min_s > kDay) return check.Fail(path + ".probe_min_seconds", "must be between 1 and 86400");
  SCIM_RETURN_IF_ERROR(check.Integer(node, path, "probe_max_seconds", 1, max_s));
  if (max_s > kDay) return check.Fail(path + ".probe_max_seconds", "must be between 1 and 86400");
  if (max_s < min_s) {
    return check.Fail(path + ".probe_max_seconds",
                      "must not be below probe_min_seconds (" + std::to_string(min_s) + ")");
  }
  b.open_after = static_cast<int>(failures);
  b.probe_initial_ms = min_s * 1000;
  b.probe_max_ms = max_s * 1000;
  return OkStatus();
}

Status ParseDelivery(const YAML::Node& node, const Checker& check, DeliverySettings& d) {
  SCIM_RETURN_IF_ERROR(
      check.KnownKeys(node, "delivery",
                      {"lease_seconds", "workers_per_target", "poll_interval_ms", "claim_batch",
                       "backlog_claim_batch", "coalesce", "breaker", "niceness", "wake_delay_ms"}));
  SCIM_RETURN_IF_ERROR(check.Integer(node, "delivery", "niceness", 0, d.niceness));
  if (d.niceness > 19) return check.Fail("delivery.niceness", "must be between 0 and 19");
  SCIM_RETURN_IF_ERROR(check.Integer(node, "delivery", "wake_delay_ms", 0, d.wake_delay_ms));
  if (d.wake_delay_ms > 1000) {
    return check.Fail("delivery.wake_delay_ms", "must be between 0 and 1000");
  }
  SCIM_RETURN_IF_ERROR(check.Integer(node, "delivery", "claim_batch", 1, d.claim_batch));
  if (d.claim_batch > 1000) return check.Fail("delivery.claim_batch", "must be between 1 and 1000");
  SCIM_RETURN_IF_ERROR(
      check.Integer(node, "delivery", "backlog_claim_batch", 1, d.backlog_claim_batch));
  if (d.backlog_claim_batch > 1000) {
    return check.Fail("delivery.backlog_claim_batch", "must be between 1 and 1000");
  }
  SCIM_RETURN_IF_ERROR(check.Integer(node, "delivery", "coalesce", 1, d.coalesce));
  if (d.coalesce > 1000) return check.Fail("delivery.coalesce", "must be between 1 and 1000");
  if (const YAML::Node breaker = node["breaker"]) {
    SCIM_RETURN_IF_ERROR(ParseBreaker(breaker, check, d.breaker));
  }
  SCIM_RETURN_IF_ERROR(check.Integer(node, "delivery", "lease_seconds", 1, d.lease_seconds));
  SCIM_RETURN_IF_ERROR(
      check.Integer(node, "delivery", "workers_per_target", 1, d.workers_per_target));
  if (d.workers_per_target > 64) {
    return check.Fail("delivery.workers_per_target", "must be between 1 and 64");
  }
  return check.Integer(node, "delivery", "poll_interval_ms", 1, d.poll_interval_ms);
}

Status ParseTls(const YAML::Node& node, const Checker& check, TlsSettings& tls) {
  SCIM_RETURN_IF_ERROR(check.KnownKeys(node, "tls", {"cert_file", "key_file", "client_ca_file"}));
  SCIM_RETURN_IF_ERROR(check.String(node, "tls", "cert_file", tls.cert_file));
  SCIM_RETURN_IF_ERROR(check.String(node, "tls", "key_file", tls.key_file));
  SCIM_RETURN_IF_ERROR(check.String(node, "tls", "client_ca_file", tls.client_ca_file));
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return check.Fail(tls.cert_file.empty() ? "tls.cert_file" : "tls.key_file",
                      "cert_file and key_file must be given together");
  }
  if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
    return check.Fail("tls.client_ca_file", "needs tls.cert_file and tls.key_file");
  }
  return OkStatus();
}

Status ParseLog(const YAML::Node& node, const Checker& check, LogSettings& log) {
  SCIM_RETURN_IF_ERROR(check.KnownKeys(node, "log", {"format", "access"}));
  SCIM_RETURN_IF_ERROR(check.String(node, "log", "format", log.format));
  SCIM_RETURN_IF_ERROR(check.Bool(node, "log", "access", log.access));
  if (log.format != "json" && log.format != "text") {
    return check.Fail("log.format", "must be json or text");
  }
  return OkStatus();
}

Status ParseRetention(const YAML::Node& node, const Checker& check, RetentionSettings& r) {
  SCIM_RETURN_IF_ERROR(check.KnownKeys(node, "retention", {"delivered_days", "audit_days"}));
  SCIM_RETURN_IF_ERROR(check.Integer(node, "retention", "delivered_days", 0, r.delivered_days));
  return check.Integer(node, "retention", "audit_days", 0, r.audit_days);
}

Status CheckDatabaseUrl(const std::string& url, const Checker& check) {
  for (const char* scheme : {"sqlite:", "postgresql://", "postgres://"}) {
    std::string s = scheme;
    if (url.rfind(s, 0) == 0 && url.size() > s.size()) return OkStatus();
  }
  return check.Fail("database", "must be sqlite:PATH or postgresql://USER@HOST:PORT/DBNAME");
}

Status ParseServer(const YAML::Node& root, const Checker& check, Config& config) {
  SCIM_RETURN_IF_ERROR(check.String(root, "", "listen", config.listen));
  if (root["listen"]) {
    auto listen = ParseListen(config.listen);
    if (!listen.ok()) return check.Fail("listen", listen.error().detail);
  }
  SCIM_RETURN_IF_ERROR(check.String(root, "", "database", config.database));
  if (root["database"]) SCIM_RETURN_IF_ERROR(CheckDatabaseUrl(config.database, check));
  SCIM_RETURN_IF_ERROR(check.String(root, "", "public_url", config.public_url));
  if (!config.public_url.empty() && config.public_url.rfind("http://", 0) != 0 &&
      config.public_url.rfind("https://", 0) != 0) {
    return check.Fail("public_url", "must start with https:// or http://");
  }
  int64_t threads = config.threads;
  SCIM_RETURN_IF_ERROR(check.Integer(root, "", "threads", 1, threads));
  if (threads > 256) return check.Fail("threads", "must be between 1 and 256");
  config.threads = static_cast<int>(threads);
  return check.Bool(root, "", "insecure_http", config.insecure_http);
}

Result<Config> ParseNode(YAML::Node root, const Checker& check) {
  Config config;
  if (!root.IsMap()) return check.Fail("", "the configuration must be a YAML mapping");
  SCIM_RETURN_IF_ERROR(
      check.KnownKeys(root, "",
                      {"listen", "database", "public_url", "threads", "tls", "insecure_http",
                       "limits", "log", "retention", "delivery", "targets"}));
  SCIM_RETURN_IF_ERROR(SubstituteNode(root, "", check));
  SCIM_RETURN_IF_ERROR(ParseServer(root, check, config));
  if (root["tls"]) SCIM_RETURN_IF_ERROR(ParseTls(root["tls"], check, config.tls));
  if (root["limits"]) SCIM_RETURN_IF_ERROR(ParseLimits(root["limits"], check, config.limits));
  if (root["log"]) SCIM_RETURN_IF_ERROR(ParseLog(root["log"], check, config.log));
  if (root["retention"]) {
    SCIM_RETURN_IF_ERROR(ParseRetention(root["retention"], check, config.retention));
  }
  if (root["delivery"]) {
    SCIM_RETURN_IF_ERROR(ParseDelivery(root["delivery"], check, config.delivery));
  }
  if (root["targets"]) SCIM_RETURN_IF_ERROR(ParseTargets(root["targets"], check, config));
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
  Checker check(source);
  try {
    return ParseNode(YAML::Load(yaml_text), check);
  } catch (const YAML::Exception& e) {
    return check.Fail("", FirstLineOf(e.what()));
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
