#pragma once
// The server configuration: YAML file (product.md), then SCIMD_* environment variables, then
// command-line flags, each overriding the one before. `${NAME}` in the file is replaced by that
// environment variable; a missing one is an error naming it.

#include <cstdint>
#include <string>
#include <vector>

#include "scim/adapters/target_config.h"
#include "scim/common/result.h"

namespace scim::app {

struct Limits {
  int64_t max_body_bytes = 1048576;
  int64_t bulk_max_operations = 1000;
  int64_t rate_limit_per_minute = 6000;
  int64_t max_page_size = 1000;  // advertised as filter.maxResults
  // Open client connections at most; 0 derives it from the descriptor limit (RLIMIT_NOFILE).
  int64_t max_connections = 0;
  // An idle keep-alive connection (or a TLS handshake that never finishes) is closed after this.
  int64_t idle_timeout_seconds = 60;
  // Failed authentications per client address and minute before its requests get 429.
  int64_t auth_failures_per_minute = 60;
};

// `tls:` HTTPS in scimd itself (PEM files). Empty cert_file: plain HTTP.
struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // optional: mutual TLS, clients need a certificate it signed
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// The delivery engine (`delivery:` in the file); see delivery::DispatcherOptions.
struct DeliverySettings {
  // How long a claimed delivery stays reserved; renewed every third of it while in progress. A
  // killed process's deliveries are taken over by another (or the restarted) process after it.
  int64_t lease_seconds = 15;
  int64_t workers_per_target = 2;
  int64_t poll_interval_ms = 100;  // idle look for other processes' writes and due retries
};

// `log:` the format of log lines and whether each request is logged.
struct LogSettings {
  std::string format = "text";  // or "json" (one object per line)
  bool access = true;           // one access-log record per request
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string database = "sqlite:scimd.db";
  std::string public_url;  // SCIM root for meta.location; derived from the Host header if empty
  // HTTP worker threads. Handlers block on the database, so more threads than cores keep the API
  // answering while delivery work holds the SQLite writer (docs/benchmarks.md, "Delivery lag").
  int threads = 8;
  Limits limits;
  TlsConfig tls;
  // Plain HTTP on a non-loopback address is refused unless this is set (e.g. behind a
  // TLS-terminating proxy on a private network).
  bool insecure_http = false;
  DeliverySettings delivery;
  LogSettings log;
  std::vector<adapters::TargetConfig> targets;
};

// Parses YAML text (already read from a file). `source` names it in error messages.
Result<Config> ParseConfig(const std::string& yaml_text, const std::string& source);
// Reads and parses a file; kInvalidValue when unreadable.
Result<Config> LoadConfigFile(const std::string& path);
// Replaces `${NAME}` with the environment variable; kInvalidValue naming a missing one.
Result<std::string> SubstituteEnv(const std::string& text);

// Splits "HOST:PORT"; kInvalidValue when malformed.
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen);

}  // namespace scim::app
