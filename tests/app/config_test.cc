// The configuration file: every key known, every value checked, errors naming the key.

#include "scim/app/config.h"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <string>

namespace scim::app {
namespace {

// The error detail of parsing `yaml`; the test fails when the parse succeeds.
std::string ErrorOf(const std::string& yaml) {
  auto config = ParseConfig(yaml, "scimd.yaml");
  BOOST_REQUIRE_MESSAGE(!config.ok(), "accepted: " + yaml);
  BOOST_TEST((config.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(config.error().detail.find('\n') == std::string::npos);
  return config.error().detail;
}

BOOST_AUTO_TEST_SUITE(config_file)

BOOST_AUTO_TEST_CASE(product_example_parses_into_every_field) {
  ::setenv("SCIMD_TEST_API_KEY", "k-123", 1);
  auto config = ParseConfig(R"(
listen: 0.0.0.0:8443
database: postgresql://scim@127.0.0.1:5432/scim
public_url: https://id.example.com/scim/v2
threads: 4
insecure_http: false
tls: {cert_file: /etc/scimd/tls.crt, key_file: /etc/scimd/tls.key, client_ca_file: /etc/ca.pem}
limits: {max_body_bytes: 2048, bulk_max_operations: 10, rate_limit_per_minute: 60,
         max_connections: 500, max_values_per_attribute: 50, max_page_size: 200,
         idle_timeout_seconds: 30, auth_failures_per_minute: 20}
log: {format: json}
retention: {delivered_days: 30, audit_days: 365}
delivery: {lease_seconds: 20, workers_per_target: 3, poll_interval_ms: 50, claim_batch: 16, backlog_claim_batch: 64, coalesce: 4, niceness: 7, wake_delay_ms: 0}
targets:
  - name: dolibarr
    type: dolibarr
    url: http://127.0.0.1:9101/api/index.php
    api_key: ${SCIMD_TEST_API_KEY}
    retry: {max_attempts: 3, initial_backoff_ms: 10, max_backoff_ms: 100}
)",
                            "scimd.yaml");
  BOOST_REQUIRE_MESSAGE(config.ok(), (config.ok() ? std::string() : config.error().detail));
  BOOST_TEST(config->listen == "0.0.0.0:8443");
  BOOST_TEST(config->threads == 4);
  BOOST_TEST(config->tls.cert_file == "/etc/scimd/tls.crt");
  BOOST_TEST(config->tls.key_file == "/etc/scimd/tls.key");
  BOOST_TEST(config->tls.client_ca_file == "/etc/ca.pem");
  BOOST_TEST(!config->insecure_http);
  BOOST_TEST(config->limits.max_body_bytes == 2048);
  BOOST_TEST(config->limits.max_connections == 500);
  BOOST_TEST(config->limits.max_values_per_attribute == 50);
  BOOST_TEST(config->limits.idle_timeout_seconds == 30);
  BOOST_TEST(config->limits.auth_failures_per_minute == 20);
  BOOST_TEST(config->log.format == "json");
  BOOST_TEST(config->retention.delivered_days == 30);
  BOOST_TEST(config->retention.audit_days == 365);
  BOOST_TEST(config->delivery.workers_per_target == 3);
  BOOST_TEST(config->delivery.niceness == 7);
  BOOST_TEST(config->delivery.wake_delay_ms == 0);
  BOOST_TEST(config->delivery.claim_batch == 16);
  BOOST_TEST(config->delivery.backlog_claim_batch == 64);
  BOOST_TEST(config->delivery.coalesce == 4);
  BOOST_REQUIRE(config->targets.size() == 1u);
  BOOST_TEST(config->targets[0].settings.at("api_key") == "k-123");
  BOOST_TEST(config->target_retry.at(config->targets[0].name).max_attempts == 3);
}

BOOST_AUTO_TEST_CASE(defaults_without_blocks) {
  auto config = ParseConfig("listen: 127.0.0.1:9000\n", "scimd.yaml");
  BOOST_REQUIRE(config.ok());
  BOOST_TEST(config->limits.max_values_per_attribute == 1000);
  BOOST_TEST(config->log.format == "text");
  BOOST_TEST(config->retention.delivered_days == 0);
  BOOST_TEST(config->tls.cert_file.empty());
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_named) {
  BOOST_TEST(ErrorOf("listn: 127.0.0.1:80\n") == "scimd.yaml: listn: unknown key");
  BOOST_TEST(ErrorOf("limits: {max_body: 5}\n") == "scimd.yaml: limits.max_body: unknown key");
  BOOST_TEST(ErrorOf("log: {level: debug}\n") == "scimd.yaml: log.level: unknown key");
  BOOST_TEST(ErrorOf("retention: {days: 3}\n") == "scimd.yaml: retention.days: unknown key");
  BOOST_TEST(ErrorOf("tls: {cert: a}\n") == "scimd.yaml: tls.cert: unknown key");
  BOOST_TEST(ErrorOf("delivery: {workers: 2}\n") == "scimd.yaml: delivery.workers: unknown key");
  BOOST_TEST(ErrorOf("targets: [{name: a, type: crm, retry: {tries: 2}}]\n") ==
             "scimd.yaml: targets[0].retry.tries: unknown key");
}

BOOST_AUTO_TEST_CASE(zero_rate_limit_switches_it_off) {
  auto config = ParseConfig("limits: {rate_limit_per_minute: 0}\n", "scimd.yaml");
  BOOST_REQUIRE(config.ok());
  BOOST_TEST(config->limits.rate_limit_per_minute == 0);
  BOOST_TEST(ErrorOf("limits: {rate_limit_per_minute: -1}\n") ==
             "scimd.yaml: limits.rate_limit_per_minute: must be a non-negative integer");
}

BOOST_AUTO_TEST_CASE(bad_values_are_named) {
  BOOST_TEST(ErrorOf("limits: {max_body_bytes: -1}\n") ==
             "scimd.yaml: limits.max_body_bytes: must be a positive integer");
  BOOST_TEST(ErrorOf("limits: {max_values_per_attribute: many}\n") ==
             "scimd.yaml: limits.max_values_per_attribute: must be a positive integer");
  BOOST_TEST(ErrorOf("limits: {max_connections: 0}\n") ==
             "scimd.yaml: limits.max_connections: must be a positive integer");
  BOOST_TEST(ErrorOf("retention: {audit_days: -2}\n") ==
             "scimd.yaml: retention.audit_days: must be a non-negative integer");
  BOOST_TEST(ErrorOf("threads: 1000\n") == "scimd.yaml: threads: must be between 1 and 256");
  BOOST_TEST(ErrorOf("log: {format: xml}\n") == "scimd.yaml: log.format: must be json or text");
  BOOST_TEST(ErrorOf("insecure_http: maybe\n") ==
             "scimd.yaml: insecure_http: must be true or false");
  BOOST_TEST(ErrorOf("limits: [1, 2]\n") == "scimd.yaml: limits: must be a mapping");
  BOOST_TEST(ErrorOf("delivery: {workers_per_target: 65}\n") ==
             "scimd.yaml: delivery.workers_per_target: must be between 1 and 64");
  BOOST_TEST(ErrorOf("delivery: {niceness: 20}\n") ==
             "scimd.yaml: delivery.niceness: must be between 0 and 19");
  BOOST_TEST(ErrorOf("delivery: {wake_delay_ms: 1001}\n") ==
             "scimd.yaml: delivery.wake_delay_ms: must be between 0 and 1000");
  BOOST_TEST(ErrorOf("delivery: {claim_batch: 0}\n") ==
             "scimd.yaml: delivery.claim_batch: must be a positive integer");
  BOOST_TEST(ErrorOf("delivery: {claim_batch: 1001}\n") ==
             "scimd.yaml: delivery.claim_batch: must be between 1 and 1000");
  BOOST_TEST(ErrorOf("delivery: {backlog_claim_batch: 1001}\n") ==
             "scimd.yaml: delivery.backlog_claim_batch: must be between 1 and 1000");
  BOOST_TEST(ErrorOf("delivery: {coalesce: 0}\n") ==
             "scimd.yaml: delivery.coalesce: must be a positive integer");
  BOOST_TEST(ErrorOf("delivery: {coalesce: 1001}\n") ==
             "scimd.yaml: delivery.coalesce: must be between 1 and 1000");
  BOOST_TEST(ErrorOf("tls: {cert_file: a.pem}\n") ==
             "scimd.yaml: tls.key_file: cert_file and key_file must be given together");
}

BOOST_AUTO_TEST_CASE(delivery_breaker_settings) {
  auto defaults = ParseConfig("delivery: {workers_per_target: 2}\n", "scimd.yaml");
  BOOST_REQUIRE(defaults.ok());
  BOOST_TEST(defaults->delivery.breaker.open_after == 3);
  BOOST_TEST(defaults->delivery.breaker.probe_initial_ms == 1000);
  BOOST_TEST(defaults->delivery.breaker.probe_max_ms == 60000);

  auto config = ParseConfig(
      "delivery: {breaker: {failures: 5, probe_min_seconds: 2, probe_max_seconds: 300}}\n",
      "scimd.yaml");
  BOOST_REQUIRE_MESSAGE(config.ok(), (config.ok() ? std::string() : config.error().detail));
  BOOST_TEST(config->delivery.breaker.open_after == 5);
  BOOST_TEST(config->delivery.breaker.probe_initial_ms == 2000);
  BOOST_TEST(config->delivery.breaker.probe_max_ms == 300000);

  // Only one key given: the others keep their defaults.
  auto partial = ParseConfig("delivery: {breaker: {probe_max_seconds: 10}}\n", "scimd.yaml");
  BOOST_REQUIRE(partial.ok());
  BOOST_TEST(partial->delivery.breaker.open_after == 3);
  BOOST_TEST(partial->delivery.breaker.probe_initial_ms == 1000);
  BOOST_TEST(partial->delivery.breaker.probe_max_ms == 10000);

  BOOST_TEST(ErrorOf("delivery: {breaker: {failure: 3}}\n") ==
             "scimd.yaml: delivery.breaker.failure: unknown key");
  BOOST_TEST(ErrorOf("delivery: {breaker: 3}\n") ==
             "scimd.yaml: delivery.breaker: must be a mapping");
  BOOST_TEST(ErrorOf("delivery: {breaker: {failures: 0}}\n") ==
             "scimd.yaml: delivery.breaker.failures: must be a positive integer");
  BOOST_TEST(ErrorOf("delivery: {breaker: {failures: 1001}}\n") ==
             "scimd.yaml: delivery.breaker.failures: must be between 1 and 1000");
  BOOST_TEST(ErrorOf("delivery: {breaker: {probe_min_seconds: 0.5}}\n") ==
             "scimd.yaml: delivery.breaker.probe_min_seconds: must be a positive integer");
  BOOST_TEST(ErrorOf("delivery: {breaker: {probe_max_seconds: 86401}}\n") ==
             "scimd.yaml: delivery.breaker.probe_max_seconds: must be between 1 and 86400");
  // probe_max_seconds below the default probe_min_seconds or the given one.
  BOOST_TEST(ErrorOf("delivery: {breaker: {probe_min_seconds: 120}}\n") ==
             "scimd.yaml: delivery.breaker.probe_max_seconds: must not be below "
             "probe_min_seconds (120)");
  BOOST_TEST(ErrorOf("delivery: {breaker: {probe_min_seconds: 5, probe_max_seconds: 4}}\n") ==
             "scimd.yaml: delivery.breaker.probe_max_seconds: must not be below "
             "probe_min_seconds (5)");
}

BOOST_AUTO_TEST_CASE(bad_listen_database_and_url) {
  BOOST_TEST(ErrorOf("listen: localhost\n").rfind("scimd.yaml: listen: ", 0) == 0);
  BOOST_TEST(ErrorOf("listen: 127.0.0.1:99999\n").rfind("scimd.yaml: listen: ", 0) == 0);
  BOOST_TEST(ErrorOf("database: mysql://x@y/z\n") ==
             "scimd.yaml: database: must be sqlite:PATH or postgresql://USER@HOST:PORT/DBNAME");
  BOOST_TEST(ErrorOf("public_url: id.example.com\n") ==
             "scimd.yaml: public_url: must start with https:// or http://");
}

BOOST_AUTO_TEST_CASE(missing_environment_variable_names_key_and_variable) {
  ::unsetenv("SCIMD_TEST_SURELY_UNSET");
  BOOST_TEST(
      ErrorOf("targets:\n  - name: a\n    type: crm\n    token: ${SCIMD_TEST_SURELY_UNSET}\n") ==
      "scimd.yaml: targets[0].token: environment variable SCIMD_TEST_SURELY_UNSET is not set");
}

BOOST_AUTO_TEST_CASE(targets_need_name_type_and_unique_names) {
  BOOST_TEST(ErrorOf("targets: [{type: crm}]\n") ==
             "scimd.yaml: targets[0].name: every target needs a name");
  BOOST_TEST(ErrorOf("targets: [{name: a, type: crm}, {name: a, type: crm}]\n") ==
             "scimd.yaml: targets[1].name: duplicate target name \"a\"");
  BOOST_TEST(ErrorOf("targets: {name: a}\n") == "scimd.yaml: targets: must be a list");
}

BOOST_AUTO_TEST_CASE(yaml_syntax_error_is_one_line) {
  BOOST_TEST(ErrorOf("limits: {max_body_bytes: 1\n").rfind("scimd.yaml: ", 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::app
