// Status and operations: counts, listings, metrics, and the admin JSON answers.
#include "scim/delivery/status.h"

#include <boost/test/unit_test.hpp>

#include "delivery/delivery_test_support.h"
#include "scim/delivery/dispatcher.h"

namespace scim::delivery {
namespace {

using testing::AddEvent;
using testing::Backend;
using testing::DeliveryIdOf;
using testing::FakeAdapter;
using testing::PgAvailable;
using testing::Recorder;
using testing::TestDatabase;

// crm: a1 delivered, b1 failed (refused), c1 pending (not due); webhook: every event delivered.
void StatusCounts(Backend backend) {
  TestDatabase db(backend);
  auto recorder = std::make_shared<Recorder>();
  auto crm = std::make_shared<FakeAdapter>("crm", recorder);
  auto webhook = std::make_shared<FakeAdapter>("events", recorder);
  int64_t a1 = AddEvent(*db, "a", "created");
  int64_t b1 = AddEvent(*db, "b", "created");
  int64_t c1 = AddEvent(*db, "c", "created");
  crm->SetScript([&](const events::ChangeEvent& e, int) {
    if (e.seq == b1) return events::DeliveryOutcome::Failed("HTTP 400: invalid email");
    if (e.seq == c1) return events::DeliveryOutcome::Retry("HTTP 503", 3600);
    return events::DeliveryOutcome::Delivered("crm-" + e.resource_id);
  });
  Dispatcher d(db.db(), {{crm, {}}, {webhook, {}}}, {});
  BOOST_TEST_REQUIRE(d.RunOnce().ok());

  auto status = SyncStatus(*db, {{"crm", "crm"}, {"events", "webhook"}, {"zoho", "zoho_books"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST_REQUIRE(status->size() == 3u);
  const TargetStatus& s = (*status)[0];
  BOOST_TEST(s.name == "crm");
  BOOST_TEST(s.type == "crm");
  BOOST_TEST(s.pending == 1);
  BOOST_TEST(s.in_flight == 0);
  BOOST_TEST(s.delivered == 1);
  BOOST_TEST(s.failed == 1);
  BOOST_TEST(s.blocked == 0);
  BOOST_TEST(s.oldest_pending_seconds >= 0.0);
  BOOST_TEST(s.oldest_pending_seconds < 3600.0);
  BOOST_TEST_REQUIRE(s.last_error.has_value());
  BOOST_TEST((*s.last_error == "HTTP 503" || *s.last_error == "HTTP 400: invalid email"));
  BOOST_TEST((*status)[1].delivered == 3);
  BOOST_TEST((*status)[1].pending == 0);
  BOOST_TEST(!(*status)[1].last_error.has_value());
  BOOST_TEST((*status)[2].name == "zoho");  // configured, never ran: zeros
  BOOST_TEST((*status)[2].delivered == 0);

  // A target missing from the list still shows, with the type recorded when it ran.
  auto unlisted = SyncStatus(*db, {});
  BOOST_TEST_REQUIRE(unlisted.ok());
  BOOST_TEST_REQUIRE(unlisted->size() == 2u);
  BOOST_TEST((*unlisted)[0].name == "crm");
  BOOST_TEST((*unlisted)[0].type == "fake");
  BOOST_TEST((*unlisted)[1].name == "events");

  auto all = ListDeliveries(*db, std::nullopt, std::nullopt, 100);
  BOOST_TEST_REQUIRE(all.ok());
  BOOST_TEST(all->size() == 6u);
  BOOST_TEST((*all)[0].id > (*all)[5].id);  // newest first
  auto limited = ListDeliveries(*db, std::nullopt, std::nullopt, 2);
  BOOST_TEST_REQUIRE(limited.ok());
  BOOST_TEST(limited->size() == 2u);
  auto crm_delivered = ListDeliveries(*db, std::string("delivered"), std::string("crm"), 100);
  BOOST_TEST_REQUIRE(crm_delivered.ok());
  BOOST_TEST_REQUIRE(crm_delivered->size() == 1u);
  const DeliveryRow& row = (*crm_delivered)[0];
  BOOST_TEST(row.id == DeliveryIdOf(*db, "crm", a1));
  BOOST_TEST(row.seq == a1);
  BOOST_TEST(row.target == "crm");
  BOOST_TEST(row.tenant == "t1");
  BOOST_TEST(row.resource_type == "User");
  BOOST_TEST(row.resource_id == "a");
  BOOST_TEST(row.event == "created");
  BOOST_TEST(row.status == "delivered");
  BOOST_TEST(row.attempts == 1);
  BOOST_TEST(!row.last_error.has_value());
  BOOST_TEST(row.updated.size() == 24u);
  // Tenant scope (the admin API): every event here is t1's.
  auto own = ListDeliveries(*db, std::nullopt, std::nullopt, 100, std::string("t1"));
  BOOST_TEST_REQUIRE(own.ok());
  BOOST_TEST(own->size() == 6u);
  auto foreign = ListDeliveries(*db, std::nullopt, std::nullopt, 100, std::string("t2"));
  BOOST_TEST_REQUIRE(foreign.ok());
  BOOST_TEST(foreign->empty());
  auto history =
      ListDeliveries(*db, std::nullopt, std::nullopt, 100, std::string("t1"), std::string("a"));
  BOOST_TEST_REQUIRE(history.ok());
  BOOST_TEST(history->size() == 2u);
  auto foreign_status = SyncStatus(*db, {{"crm", "crm"}}, std::string("t2"));
  BOOST_TEST_REQUIRE(foreign_status.ok());
  BOOST_TEST((*foreign_status)[0].failed == 0);
  BOOST_TEST((*foreign_status)[0].delivered == 0);
  BOOST_TEST(!(*foreign_status)[0].last_error.has_value());
  auto own_status = SyncStatus(*db, {{"crm", "crm"}}, std::string("t1"));
  BOOST_TEST_REQUIRE(own_status.ok());
  BOOST_TEST((*own_status)[0].failed == 1);
  Status cross_retry = RetryDelivery(*db, DeliveryIdOf(*db, "crm", b1), std::string("t2"));
  BOOST_TEST_REQUIRE(!cross_retry.ok());
  BOOST_TEST((cross_retry.error().code == ErrorCode::kNotFound));

  auto bad = ListDeliveries(*db, std::string("lost"), std::nullopt, 10);
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST((bad.error().code == ErrorCode::kInvalidValue));

  auto metrics = MetricsText(*db);
  BOOST_TEST_REQUIRE(metrics.ok());
  const std::string& m = *metrics;
  BOOST_TEST(m.find("# TYPE scimd_outbox_depth gauge\n") != std::string::npos);
  BOOST_TEST(m.find("\nscimd_outbox_depth 1\n") != std::string::npos, m);  // c1 still pending
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
  BOOST_TEST(m.find("scimd_delivery_oldest_pending_seconds{target=\"crm\"} ") != std::string::npos);

  std::string text = SyncStatusText(*status);
  BOOST_TEST(text.find("TARGET") == 0u);
  BOOST_TEST(text.find("crm") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(counts_listing_metrics_sqlite) { StatusCounts(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(counts_listing_metrics_pg, *boost::unit_test::precondition(PgAvailable())) {
  StatusCounts(Backend::kPostgres);
}

BOOST_AUTO_TEST_CASE(outbox_depth_counts_events_not_fanned_out) {
  TestDatabase db(Backend::kSqlite);
  auto recorder = std::make_shared<Recorder>();
  auto crm = std::make_shared<FakeAdapter>("crm", recorder);
  Dispatcher d(db.db(), {{crm, {}}}, {});
  AddEvent(*db, "a", "created");
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  AddEvent(*db, "a", "patched");
  AddEvent(*db, "b", "created");
  auto metrics = MetricsText(*db);
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(metrics->find("\nscimd_outbox_depth 2\n") != std::string::npos, *metrics);
  // A configured target that never ran has every event ahead of it.
  auto configured = MetricsText(*db, {{"crm", "crm"}, {"zoho", "zoho_books"}});
  BOOST_TEST_REQUIRE(configured.ok());
  BOOST_TEST(configured->find("\nscimd_outbox_depth 3\n") != std::string::npos, *configured);
  BOOST_TEST(configured->find("scimd_deliveries_total{target=\"zoho\",outcome=\"pending\"} 0\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_database) {
  TestDatabase db(Backend::kSqlite);
  auto status = SyncStatus(*db, {});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST(status->empty());
  BOOST_TEST(SyncStatusJson(*status) == "{\"targets\":[]}");
  auto metrics = MetricsText(*db);
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(metrics->find("\nscimd_outbox_depth 0\n") != std::string::npos);
  auto links = LinksOf(*db, "t1", "nobody");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST(LinksJson(*links) == "{\"links\":[]}");
}

BOOST_AUTO_TEST_CASE(json_answers) {
  TargetStatus t;
  t.name = "crm";
  t.type = "crm";
  t.pending = 2;
  t.in_flight = 1;
  t.blocked = 0;
  t.delivered = 40;
  t.failed = 1;
  t.oldest_pending_seconds = 1.25;
  t.last_error = "HTTP 503 \"busy\"";
  TargetStatus idle;
  idle.name = "events";
  idle.type = "webhook";
  BOOST_TEST(SyncStatusJson({t, idle}) ==
             "{\"targets\":[{\"name\":\"crm\",\"type\":\"crm\",\"pending\":2,\"in_flight\":1,"
             "\"blocked\":0,\"delivered\":40,\"failed\":1,\"oldest_pending_seconds\":1.25,"
             "\"last_error\":\"HTTP 503 \\\"busy\\\"\"},{\"name\":\"events\",\"type\":\"webhook\","
             "\"pending\":0,\"in_flight\":0,\"blocked\":0,\"delivered\":0,\"failed\":0,"
             "\"oldest_pending_seconds\":0.0,\"last_error\":null}]}");

  DeliveryRow d;
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

  Link l{"dolibarr", "User", "2819c223", "42", "t1"};
  BOOST_TEST(LinksJson({l}) ==
             "{\"links\":[{\"target\":\"dolibarr\",\"resource_type\":\"User\","
             "\"resource_id\":\"2819c223\",\"external_id\":\"42\",\"tenant\":\"t1\"}]}");
}

BOOST_AUTO_TEST_CASE(metric_labels_are_escaped) {
  TestDatabase db(Backend::kSqlite);
  testing::Exec(*db,
                "INSERT INTO target_cursors (target, type, updated) "
                "VALUES ('we\"ird\\name', 'fake', 'x')");
  auto metrics = MetricsText(*db);
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(
      metrics->find("{target=\"we\\\"ird\\\\name\",outcome=\"delivered\"} 0") != std::string::npos,
      *metrics);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
