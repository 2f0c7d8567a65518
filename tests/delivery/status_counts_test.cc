// The counts behind sync status and /metrics at a large backlog (migration 014, issues 11 and
// 12): delivery_counts, kept by triggers on deliveries, and the index-driven oldest row, blocked
// count and last error of store/delivery_status.cc. Every check compares SyncStatus with what
// a scan of the deliveries (the queries the status used before) gives, after claims, outcomes,
// retries, re-queues, deletes, rolled-back changes and concurrent writers, per tenant and for all.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "delivery/delivery_test_support.h"
#include "scim/delivery/dispatcher.h"
#include "scim/store/delivery_status.h"

namespace scim::delivery {
namespace {

using testing::AddEvent;
using testing::Backend;
using testing::Connect;
using testing::DeliveryIdOf;
using testing::FakeAdapter;
using testing::PgAvailable;
using testing::Recorder;
using testing::TestDatabase;

using store::SyncStatus;
using store::TargetStatus;
using store::testing::SqlParam;

long long Int(store::Database& db, const std::string& sql, const std::vector<SqlParam>& params) {
  auto value = store::testing::QueryInt(db, sql, params);
  BOOST_TEST_REQUIRE(value.ok(), testing::Unwrap(value) << " in " << sql);
  return value->value_or(-1);
}

int64_t AddTenantEvent(store::Database& db, const std::string& tenant, const std::string& id,
                       const std::string& kind) {
  auto seq = store::testing::InsertOutboxRow(db, tenant, "User", id, kind);
  BOOST_TEST_REQUIRE(seq.ok(), testing::Unwrap(seq));
  return *seq;
}

// Seconds since a canonical timestamp ("2026-11-21T15:26:00.123Z").
double AgeOf(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  BOOST_TEST_REQUIRE(std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
                                 &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                                 &ms) == 7);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto at = std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
  return std::chrono::duration<double>(std::chrono::system_clock::now() - at).count();
}

// Every (target, tenant, status) of deliveries has exactly its COUNT(*) as the sum of its
// delivery_counts shards, and no other key sums to anything but 0.
void CheckCountsTable(store::Database& db, const std::string& when) {
  BOOST_TEST_CONTEXT(when) {
    BOOST_TEST(Int(db,
                   "SELECT COUNT(*) FROM (SELECT target, tenant, status, COUNT(*) AS n "
                   "FROM deliveries GROUP BY target, tenant, status) a LEFT JOIN "
                   "(SELECT target, tenant, status, SUM(n) AS n FROM delivery_counts "
                   "GROUP BY target, tenant, status) b ON a.target = b.target "
                   "AND a.tenant = b.tenant AND a.status = b.status "
                   "WHERE b.n IS NULL OR a.n <> b.n",
                   {}) == 0);
    BOOST_TEST(Int(db,
                   "SELECT COUNT(*) FROM (SELECT target, tenant, status, SUM(n) AS n "
                   "FROM delivery_counts GROUP BY target, tenant, status) b "
                   "WHERE b.n <> 0 AND NOT EXISTS (SELECT 1 FROM deliveries d "
                   "WHERE d.target = b.target AND d.tenant = b.tenant AND d.status = b.status)",
                   {}) == 0);
  }
}

// SyncStatus of `target` (for `tenant`, or all) against a scan of its deliveries.
void CheckAgainstScan(store::Database& db, const std::string& target,
                      const std::optional<std::string>& tenant, const std::string& when) {
  BOOST_TEST_CONTEXT(when << ", target " << target << ", tenant " << tenant.value_or("(all)")) {
    auto status = SyncStatus(db, {{target, "fake"}}, tenant);
    BOOST_TEST_REQUIRE(status.ok());
    const TargetStatus& s = status->front();
    std::string pattern = tenant.value_or("%");
    auto count = [&](const std::string& statuses) {
      return Int(db,
                 "SELECT COUNT(*) FROM deliveries WHERE target = :t AND tenant LIKE :tn "
                 "AND status IN (" +
                     statuses + ")",
                 {target, pattern});
    };
    BOOST_TEST(s.pending == count("'pending', 'in_flight'"));
    BOOST_TEST(s.in_flight == count("'in_flight'"));
    BOOST_TEST(s.delivered == count("'delivered'"));
    BOOST_TEST(s.failed == count("'failed'"));
    BOOST_TEST(s.blocked ==
               Int(db,
                   "SELECT COUNT(*) FROM deliveries d WHERE d.target = :t AND d.tenant LIKE :tn "
                   "AND d.status = 'pending' AND EXISTS (SELECT 1 FROM deliveries e "
                   "WHERE e.target = d.target AND e.tenant = d.tenant "
                   "AND e.resource_id = d.resource_id AND e.seq < d.seq "
                   "AND e.status = 'failed' AND e.blocks_resource = 1)",
                   {target, pattern}));
    auto error = store::testing::QueryText(
        db,
        "SELECT last_error FROM deliveries WHERE target = :t AND tenant LIKE :tn "
        "AND status IN ('pending', 'in_flight', 'failed') AND last_error IS NOT NULL "
        "ORDER BY updated DESC, id DESC LIMIT 1",
        {target, pattern});
    BOOST_TEST_REQUIRE(error.ok());
    BOOST_TEST(s.last_error.value_or("<none>") == error->value_or("<none>"));
    // The oldest undelivered row: its age as the status computes it, within a second.
    auto oldest = store::testing::QueryText(
        db,
        "SELECT MIN(created) FROM deliveries WHERE target = :t AND tenant LIKE :tn "
        "AND status IN ('pending', 'in_flight')",
        {target, pattern});
    BOOST_TEST_REQUIRE(oldest.ok());
    if (oldest->has_value()) {
      double age = AgeOf(**oldest);
      BOOST_TEST(std::fabs(s.oldest_pending_seconds - age) < 1.0);
    } else {
      BOOST_TEST(s.oldest_pending_seconds == 0.0);
    }
  }
}

void CheckAll(store::Database& db, const std::string& when) {
  CheckCountsTable(db, when);
  for (const char* target : {"crm", "events"}) {
    for (const std::optional<std::string>& tenant :
         {std::optional<std::string>(), std::optional<std::string>("t1"),
          std::optional<std::string>("t2"), std::optional<std::string>("t3")}) {
      CheckAgainstScan(db, target, tenant, when);
    }
  }
}

// crm gives up at the first retryable failure (the row fails and blocks its resource); events
// keeps a retried row pending with its error.
void CountsFollowTheEngine(Backend backend) {
  TestDatabase db(backend);
  auto recorder = std::make_shared<Recorder>();
  auto crm = std::make_shared<FakeAdapter>("crm", recorder);
  auto events = std::make_shared<FakeAdapter>("events", recorder);
  AddEvent(*db, "a", "created");
  int64_t b1 = AddEvent(*db, "b", "created");
  int64_t c1 = AddEvent(*db, "c", "created");
  int64_t x1 = AddTenantEvent(*db, "t2", "x", "created");
  int64_t y1 = AddTenantEvent(*db, "t2", "y", "created");
  bool healthy = false;
  crm->SetScript([&](const events::ChangeEvent& e, int) {
    if (healthy) return events::DeliveryOutcome::Delivered("crm-" + e.resource_id);
    if (e.seq == b1) return events::DeliveryOutcome::Failed("HTTP 400: invalid email");
    if (e.seq == c1 || e.seq == y1) return events::DeliveryOutcome::Retry("HTTP 503");
    return events::DeliveryOutcome::Delivered("crm-" + e.resource_id);
  });
  events->SetScript([&](const events::ChangeEvent& e, int) {
    if (!healthy && e.seq == x1) return events::DeliveryOutcome::Retry("HTTP 502", 3600);
    return events::DeliveryOutcome::Delivered("ev-" + e.resource_id);
  });
  RetryPolicy give_up_at_once;
  give_up_at_once.max_attempts = 1;
  Dispatcher d(db.db(), {{crm, give_up_at_once}, {events, {}}}, {});
  CheckAll(*db, "before any fan-out");
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  CheckAll(*db, "after the first outcomes");
  BOOST_TEST(testing::DeliveryStatusOf(*db, "crm", c1) == "failed");

  // Later changes of c and y wait behind their failed rows at crm (blocked).
  AddEvent(*db, "c", "patched");
  AddTenantEvent(*db, "t2", "y", "patched");
  AddEvent(*db, "a", "patched");
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  CheckAll(*db, "with blocked rows");
  auto crm_status = SyncStatus(*db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(crm_status.ok());
  BOOST_TEST(crm_status->front().blocked == 2);
  auto t2_status = SyncStatus(*db, {{"crm", "fake"}}, std::string("t2"));
  BOOST_TEST_REQUIRE(t2_status.ok());
  BOOST_TEST(t2_status->front().blocked == 1);
  BOOST_TEST(t2_status->front().failed == 1);

  // A claim that has not ended: in_flight (as a worker holds it), then back.
  testing::Exec(*db,
                "UPDATE deliveries SET status = 'in_flight' WHERE target = 'events' "
                "AND status = 'pending'");
  CheckAll(*db, "with an in-flight row");
  testing::Exec(*db, "UPDATE deliveries SET status = 'pending' WHERE status = 'in_flight'");

  BOOST_TEST_REQUIRE(store::RetryDelivery(*db, DeliveryIdOf(*db, "crm", c1)).ok());
  CheckAll(*db, "after one retry");
  auto requeued = store::RetryFailed(*db, std::string("crm"));
  BOOST_TEST_REQUIRE(requeued.ok());
  BOOST_TEST(*requeued == 2);
  CheckAll(*db, "after re-queueing the failed rows");
  healthy = true;
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  CheckAll(*db, "after the target recovered");

  // Retention deletes delivered rows.
  testing::Exec(*db, "DELETE FROM deliveries WHERE status = 'delivered' AND tenant = 't1'");
  CheckAll(*db, "after deleting delivered rows");

  // A change rolled back counts nothing.
  AddEvent(*db, "d", "created");
  AddTenantEvent(*db, "t3", "z", "created");
  auto c = Connect(db.url());
  testing::Exec(*c, "BEGIN");
  testing::Exec(*c, "UPDATE deliveries SET status = 'failed' WHERE status = 'delivered'");
  testing::Exec(*c, "DELETE FROM deliveries WHERE tenant = 't2'");
  testing::Exec(*c, "ROLLBACK");
  CheckAll(*db, "after a rolled-back change");
  healthy = false;
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  CheckAll(*db, "at the end");
}

BOOST_AUTO_TEST_SUITE(status_counts)

BOOST_AUTO_TEST_CASE(counts_follow_the_engine_sqlite) { CountsFollowTheEngine(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(counts_follow_the_engine_pg, *boost::unit_test::precondition(PgAvailable())) {
  CountsFollowTheEngine(Backend::kPostgres);
}

// Migration 014 fills the counts from the rows already there, and a target removed from the
// configuration still counts (it is found by its cursor).
BOOST_AUTO_TEST_CASE(counts_of_rows_written_before_and_without_dispatcher) {
  TestDatabase db(Backend::kSqlite);
  testing::Exec(*db,
                "INSERT INTO target_cursors (target, type, updated) VALUES ('old', 'crm', 'x')");
  int64_t seq = AddEvent(*db, "a", "created");
  Status inserted = store::testing::Exec(
      *db,
      "INSERT INTO deliveries (seq, target, tenant, resource_type, resource_id, "
      "status, created, updated) VALUES (:s, 'old', 't1', 'User', 'a', 'failed', "
      "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
      {static_cast<long long>(seq)});
  BOOST_TEST_REQUIRE(inserted.ok(), testing::Unwrap(inserted));
  auto status = SyncStatus(*db, {});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST_REQUIRE(status->size() == 1u);
  BOOST_TEST(status->front().failed == 1);
  CheckCountsTable(*db, "one row inserted by hand");
}

// PostgreSQL: writers on two connections change rows of the same (target, tenant, status) in
// transactions open at the same time without waiting for each other (no shared counter row), and
// the counts are exact once both commit.
BOOST_AUTO_TEST_CASE(concurrent_writers_share_no_counter_row_pg,
                     *boost::unit_test::precondition(PgAvailable())) {
  TestDatabase db(Backend::kPostgres);
  auto recorder = std::make_shared<Recorder>();
  auto crm = std::make_shared<FakeAdapter>("crm", recorder);
  crm->SetScript([&](const events::ChangeEvent&, int) {
    return events::DeliveryOutcome::Retry("HTTP 503", 3600);
  });
  int64_t a = AddEvent(*db, "a", "created");
  int64_t b = AddEvent(*db, "b", "created");
  Dispatcher d(db.db(), {{crm, {}}}, {});
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  auto one = Connect(db.url());
  auto two = Connect(db.url());
  testing::Exec(*two, "SET lock_timeout = '3s'");
  testing::Exec(*one, "BEGIN");
  testing::Exec(*one, "UPDATE deliveries SET status = 'failed' WHERE id = :id",
                {static_cast<long long>(DeliveryIdOf(*db, "crm", a))});
  testing::Exec(*two, "BEGIN");
  // Would wait for `one` (and time out) if both adjusted the same counter row.
  testing::Exec(*two, "UPDATE deliveries SET status = 'failed' WHERE id = :id",
                {static_cast<long long>(DeliveryIdOf(*db, "crm", b))});
  testing::Exec(*two, "COMMIT");
  testing::Exec(*one, "COMMIT");
  CheckCountsTable(*db, "after two concurrent writers");
  CheckAgainstScan(*db, "crm", std::nullopt, "after two concurrent writers");
  // Several processes on one database: a second Database (pool) writes too.
  auto other = db.Open();
  testing::Exec(*other, "UPDATE deliveries SET status = 'pending' WHERE status = 'failed'");
  CheckCountsTable(*db, "after a second pool's write");
}

// PostgreSQL: the shards of backends that ended are folded into shard 0 once a (target, status)
// has more than 64; the sums do not change.
BOOST_AUTO_TEST_CASE(shards_of_ended_backends_are_folded_pg,
                     *boost::unit_test::precondition(PgAvailable())) {
  TestDatabase db(Backend::kPostgres);
  auto recorder = std::make_shared<Recorder>();
  auto crm = std::make_shared<FakeAdapter>("crm", recorder);
  crm->SetScript([&](const events::ChangeEvent&, int) {
    return events::DeliveryOutcome::Retry("HTTP 503", 3600);
  });
  AddEvent(*db, "a", "created");
  AddEvent(*db, "b", "created");
  Dispatcher d(db.db(), {{crm, {}}}, {});
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  // 100 shards of pids no backend has (above Linux's pid_max), summing to 0 per status.
  testing::Exec(*db,
                "INSERT INTO delivery_counts (target, tenant, status, shard, n) "
                "SELECT 'crm', 't1', s, 5000000 + i, CASE WHEN i % 2 = 0 THEN 3 ELSE -3 END "
                "FROM generate_series(1, 100) i, (VALUES ('pending'), ('delivered')) v(s)");
  CheckAgainstScan(*db, "crm", std::nullopt, "with 100 dead shards");
  BOOST_TEST(testing::QueryInt(*db, "SELECT COUNT(*) FROM delivery_counts WHERE shard >= :s",
                               5000000LL) == 0);
  CheckCountsTable(*db, "after the fold");
  CheckAgainstScan(*db, "crm", std::string("t1"), "after the fold");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
