// Status and operations after the engine ran: counts, listings and the numbers behind /metrics
// (scim/store/delivery_status.h). Their rendering is tested in tests/http/sync_rendering_test.cc
// and tests/app/sync_text_test.cc.
#include <boost/test/unit_test.hpp>

#include "delivery/delivery_test_support.h"
#include "scim/delivery/dispatcher.h"
#include "scim/store/delivery_status.h"

namespace scim::delivery {
namespace {

using testing::AddEvent;
using testing::Backend;
using testing::DeliveryIdOf;
using testing::FakeAdapter;
using testing::PgAvailable;
using testing::Recorder;
using testing::TestDatabase;

using store::DeliveryMetricsOf;
using store::DeliveryRow;
using store::LinksOf;
using store::ListDeliveries;
using store::RetryDelivery;
using store::SyncStatus;
using store::TargetStatus;

// The metrics of one target; the test fails when it is missing.
const store::TargetMetrics& MetricsOf(const store::DeliveryMetrics& metrics,
                                      const std::string& name) {
  for (const store::TargetMetrics& t : metrics.targets) {
    if (t.name == name) return t;
  }
  BOOST_FAIL("no metrics for target " + name);
  return metrics.targets.front();
}

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

  auto metrics = DeliveryMetricsOf(*db);
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(metrics->outbox_depth == 1);  // c1 still pending
  BOOST_TEST_REQUIRE(metrics->targets.size() == 2u);
  BOOST_TEST(MetricsOf(*metrics, "crm").delivered == 1);
  BOOST_TEST(MetricsOf(*metrics, "crm").failed == 1);
  BOOST_TEST(MetricsOf(*metrics, "crm").pending == 1);
  BOOST_TEST(MetricsOf(*metrics, "crm").oldest_pending_seconds >= 0.0);
  BOOST_TEST(MetricsOf(*metrics, "events").delivered == 3);
  BOOST_TEST(MetricsOf(*metrics, "events").oldest_pending_seconds == 0.0);
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
  auto metrics = DeliveryMetricsOf(*db);
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(metrics->outbox_depth == 2);
  // A configured target that never ran has every event ahead of it.
  auto configured = DeliveryMetricsOf(*db, {{"crm", "crm"}, {"zoho", "zoho_books"}});
  BOOST_TEST_REQUIRE(configured.ok());
  BOOST_TEST(configured->outbox_depth == 3);
  BOOST_TEST(MetricsOf(*configured, "zoho").pending == 0);
}

BOOST_AUTO_TEST_CASE(empty_database) {
  TestDatabase db(Backend::kSqlite);
  auto status = SyncStatus(*db, {});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST(status->empty());
  auto metrics = DeliveryMetricsOf(*db);
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(metrics->outbox_depth == 0);
  BOOST_TEST(metrics->targets.empty());
  auto links = LinksOf(*db, "t1", "nobody");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST(links->empty());
}

// Every target with a cursor is counted, whatever its name (http escapes it for Prometheus).
BOOST_AUTO_TEST_CASE(metrics_cover_every_known_target) {
  TestDatabase db(Backend::kSqlite);
  testing::Exec(*db,
                "INSERT INTO target_cursors (target, type, updated) "
                "VALUES ('we\"ird\\name', 'fake', 'x')");
  auto metrics = DeliveryMetricsOf(*db);
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(MetricsOf(*metrics, "we\"ird\\name").delivered == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
