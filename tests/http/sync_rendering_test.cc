// The delivery answers of the admin API and the delivery part of /metrics, rendered from
// store's status rows (the rows themselves: tests/delivery/status_test.cc, tests/store/).
#include "http/sync_rendering.h"

#include <boost/test/unit_test.hpp>

#include "support/sync_status_fixtures.h"

namespace scim::http {
namespace {

BOOST_AUTO_TEST_SUITE(sync_rendering)

BOOST_AUTO_TEST_CASE(json_answers) {
  store::TargetStatus t = testing::Paused(testing::BusyTarget("HTTP 503 \"busy\""), "HTTP 503",
                                          "2026-12-07T10:00:02.000Z");
  t.notices.push_back(testing::DepartmentNotice("no field"));
  const store::TargetStatus idle = testing::IdleTarget();
  BOOST_TEST(
      SyncStatusJson({t, idle}) ==
      "{\"targets\":[{\"name\":\"crm\",\"type\":\"crm\",\"pending\":2,\"in_flight\":1,"
      "\"blocked\":0,\"delivered\":40,\"failed\":1,\"oldest_pending_seconds\":1.25,"
      "\"last_error\":\"HTTP 503 \\\"busy\\\"\",\"notices\":[{\"topic\":\"department\","
      "\"message\":\"no field\",\"since\":\"2026-12-07T10:00:00.000Z\","
      "\"updated\":\"2026-12-07T10:05:00.000Z\"}],\"paused\":true,"
      "\"paused_since\":\"2026-12-07T10:00:00.000Z\",\"pause_reason\":\"HTTP 503\","
      "\"next_probe_at\":\"2026-12-07T10:00:02.000Z\"},{\"name\":\"events\","
      "\"type\":\"webhook\",\"pending\":0,\"in_flight\":0,\"blocked\":0,\"delivered\":0,"
      "\"failed\":0,\"oldest_pending_seconds\":0.0,\"last_error\":null,\"notices\":[],"
      "\"paused\":false,\"paused_since\":null,\"pause_reason\":null,\"next_probe_at\":null}]}");

  store::DeliveryRow d;
  d.id = 7;
  d.seq = 12;
  d.target = "crm";
  d.tenant = "t1";
  d.resource_type = "User";
  d.resource_id = "2819c223";
  d.event = "patched";
  d.status = "failed";
  d.attempts = 10;
  d.last_error = "gave up after 10 attempts: timeout";
  d.updated = "2026-01-01T00:00:00.000Z";
  d.tenant = "t1";
  BOOST_TEST(DeliveriesJson({d}) ==
             "{\"deliveries\":[{\"id\":7,\"seq\":12,\"target\":\"crm\",\"tenant\":\"t1\","
             "\"resource_type\":\"User\","
             "\"resource_id\":\"2819c223\",\"event\":\"patched\",\"status\":\"failed\","
             "\"attempts\":10,\"last_error\":\"gave up after 10 attempts: timeout\","
             "\"updated\":\"2026-01-01T00:00:00.000Z\"}]}");
  BOOST_TEST(DeliveriesJson({}) == "{\"deliveries\":[]}");

  store::Link l{"dolibarr", "User", "2819c223", "42", "t1"};
  BOOST_TEST(LinksJson({l}) ==
             "{\"links\":[{\"target\":\"dolibarr\",\"resource_type\":\"User\","
             "\"resource_id\":\"2819c223\",\"external_id\":\"42\",\"tenant\":\"t1\"}]}");
}

BOOST_AUTO_TEST_CASE(empty_answers) {
  BOOST_TEST(SyncStatusJson({}) == "{\"targets\":[]}");
  BOOST_TEST(LinksJson({}) == "{\"links\":[]}");
}

BOOST_AUTO_TEST_CASE(metrics_text) {
  store::DeliveryMetrics metrics;
  metrics.outbox_depth = 1;
  metrics.targets.push_back({"crm", 1, 1, 1, 2.5, true, 12.5});
  metrics.targets.push_back({"events", 3, 0, 0, 0});
  const std::string m = DeliveryMetricsText(metrics);
  BOOST_TEST(m.find("# TYPE scimd_outbox_depth gauge\n") == m.find("# TYPE"));
  BOOST_TEST(m.find("\nscimd_outbox_depth 1\n") != std::string::npos, m);
  BOOST_TEST(m.find("scimd_deliveries_total{target=\"crm\",outcome=\"delivered\"} 1\n") !=
             std::string::npos);
  BOOST_TEST(m.find("scimd_deliveries_total{target=\"crm\",outcome=\"failed\"} 1\n") !=
             std::string::npos);
  BOOST_TEST(m.find("scimd_deliveries_total{target=\"crm\",outcome=\"pending\"} 1\n") !=
             std::string::npos);
  BOOST_TEST(m.find("scimd_deliveries_total{target=\"events\",outcome=\"delivered\"} 3\n") !=
             std::string::npos);
  BOOST_TEST(m.find("scimd_delivery_oldest_pending_seconds{target=\"events\"} 0.000\n") !=
             std::string::npos);
  BOOST_TEST(m.find("scimd_delivery_oldest_pending_seconds{target=\"crm\"} 2.500\n") !=
             std::string::npos);
  BOOST_TEST(m.find("scimd_target_paused{target=\"crm\"} 1\n") != std::string::npos, m);
  BOOST_TEST(m.find("scimd_target_paused{target=\"events\"} 0\n") != std::string::npos, m);
  BOOST_TEST(m.find("scimd_target_paused_seconds{target=\"crm\"} 12.500\n") != std::string::npos,
             m);
  BOOST_TEST(m.find("scimd_target_paused_seconds{target=\"events\"} 0.000\n") != std::string::npos,
             m);
  // Totals of every target come before the ages of every target.
  BOOST_TEST(m.find("scimd_deliveries_total{target=\"events\"") <
             m.find("# HELP scimd_delivery_oldest_pending_seconds"));
  BOOST_TEST(DeliveryMetricsText({}) ==
             "# HELP scimd_outbox_depth Outbox events not yet queued for every target or still "
             "pending delivery.\n# TYPE scimd_outbox_depth gauge\nscimd_outbox_depth 0\n"
             "# HELP scimd_deliveries_total Deliveries by target and current outcome.\n"
             "# TYPE scimd_deliveries_total gauge\n"
             "# HELP scimd_delivery_oldest_pending_seconds Age of the oldest undelivered "
             "delivery.\n# TYPE scimd_delivery_oldest_pending_seconds gauge\n"
             "# HELP scimd_target_paused 1 while the target's circuit breaker holds its "
             "deliveries back (it looks down), else 0.\n# TYPE scimd_target_paused gauge\n"
             "# HELP scimd_target_paused_seconds How long the target has been paused (0 when "
             "not).\n# TYPE scimd_target_paused_seconds gauge\n");
}

BOOST_AUTO_TEST_CASE(metric_labels_are_escaped) {
  store::DeliveryMetrics metrics;
  metrics.targets.push_back({"we\"ird\\name\nx", 0, 0, 0, 0});
  const std::string m = DeliveryMetricsText(metrics);
  BOOST_TEST(
      m.find("{target=\"we\\\"ird\\\\name\\nx\",outcome=\"delivered\"} 0") != std::string::npos, m);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
