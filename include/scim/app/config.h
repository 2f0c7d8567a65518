#pragma once
// The server configuration: YAML file (product.md), then SCIMD_* environment variables, then
// command-line flags, each overriding the one before. `${NAME}` in the file is replaced by that
// environment variable; a missing one is an error naming it.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scim/adapters/target_config.h"
#include "scim/common/result.h"
#include "scim/delivery/backoff.h"

namespace scim::app {

// `limits:`. Every value given in the file must be a positive integer, except
// rate_limit_per_minute, where 0 switches the per-token limit off.
struct Limits {
  int64_t max_body_bytes = 1048576;
  int64_t bulk_max_operations = 1000;
  int64_t rate_limit_per_minute = 6000;
  int64_t max_page_size = 1000;  // advertised as filter.maxResults
  // Values per multi-valued attribute of a written resource (Group members exempt); more is a
  // 400 invalidValue.
  int64_t max_values_per_attribute = 1000;
  // Open client connections at most; 0 derives it from the descriptor limit (RLIMIT_NOFILE).
  int64_t max_connections = 0;
  // An idle keep-alive connection (or a TLS handshake that never finishes) is closed after this.
  int64_t idle_timeout_seconds = 60;
  // Failed authentications per client address and minute before its requests get 429.
  int64_t auth_failures_per_minute = 60;
};

// `tls:` (PEM files). Empty cert_file: plain HTTP. cert_file and key_file come together;
// client_ca_file (optional) turns on mutual TLS.
struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// `log:` the format of log lines and whether each request is logged.
struct LogSettings {
  std::string format = "text";  // or "json" (one JSON object per line)
  bool access = true;           // one access-log record per request
};

// `retention:`: delivered outbox/delivery rows and audit rows older than this many days are
// pruned in the background; 0 (the default) keeps them forever.
struct RetentionSettings {
  int64_t delivered_days = 0;
  int64_t audit_days = 0;
};

// The delivery engine (`delivery:` in the file); see delivery::DispatcherOptions.
struct DeliverySettings {
  // How long a claimed delivery stays reserved; renewed every third of it while in progress. A
  // killed process's deliveries are taken over by another (or the restarted) process after it.
  int64_t lease_seconds = 15;
  int64_t workers_per_target = 2;
  int64_t poll_interval_ms = 100;  // idle look for other processes' writes and due retries
  // Deliveries a worker claims at once (one claim and one outcome transaction per batch).
  int64_t claim_batch = 8;
  // At a backlog a worker's claims double after each full one, up to this (see
  // delivery::DispatcherOptions::backlog_claim_batch); at or below claim_batch: fixed claims.
  int64_t backlog_claim_batch = 32;
  // Pending changes of one resource at one target sent as one call (the first and those behind
  // it); 1 sends every change on its own.
  int64_t coalesce = 32;
  // `breaker: {failures, probe_min_seconds, probe_max_seconds}`: target-wide failures in a row
  // that pause a target, and the probe interval (first, and the cap it doubles up to).
  delivery::BreakerPolicy breaker;
  // The engine threads' niceness (0: the process's own) and how long a worker woken by a commit
  // gathers further commits before its pass (delivery::DispatcherOptions niceness, wake_delay).
  int64_t niceness = 0;
  int64_t wake_delay_ms = 15;
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string database = "sqlite:scimd.db";
  // SCIM root for meta.location and Location; empty: the listen address (never a Host header)
  std::string public_url;
  // HTTP worker threads. Handlers block on the database, so more threads than cores keep the API
  // answering while delivery work holds the SQLite writer (docs/benchmarks.md, "Delivery lag").
  int threads = 8;
  TlsSettings tls;
  bool insecure_http = false;  // allow plain HTTP on a non-loopback address
  Limits limits;
  LogSettings log;
  RetentionSettings retention;
  DeliverySettings delivery;
  std::vector<adapters::TargetConfig> targets;
  // Each target's `retry:` (the delivery engine's policy), by target name; every target has one
  // (the defaults when its block has no `retry:`).
  std::map<std::string, delivery::RetryPolicy> target_retry;
};

// Parses and validates YAML text (already read from a file). `source` names it in error
// messages. Errors are kInvalidValue, one line "SOURCE: KEY: what is wrong": an unknown key (at
// the top level and in tls, limits, log, retention, delivery and a target's retry), a value of
// the wrong type or out of range, a listen address that is not HOST:PORT, a database URL that is
// neither sqlite:PATH nor postgresql://..., a `${NAME}` whose variable is not set. A target's
// own keys are checked by its adapter factory (`scimd config check` and `serve` build the
// adapters), not here.
Result<Config> ParseConfig(const std::string& yaml_text, const std::string& source);
// Reads and parses a file; kInvalidValue when unreadable.
Result<Config> LoadConfigFile(const std::string& path);
// Replaces `${NAME}` with the environment variable; kInvalidValue naming a missing one. The file
// parser applies it to every scalar value after parsing, so a message can name the key.
Result<std::string> SubstituteEnv(const std::string& text);

// Splits "HOST:PORT"; kInvalidValue when malformed.
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen);

}  // namespace scim::app
