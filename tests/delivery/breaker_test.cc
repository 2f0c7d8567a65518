// The circuit breaker of a target (src/delivery/breaker.h): its state transitions as a pure
// function, and the dispatcher riding out an outage longer than the retry window on a real
// database (SQLite; PostgreSQL too when SCIMD_TEST_PG_URL is set): nothing fails, attempts are
// not spent, one probe at a time, delivery resumes in order; a per-record failure still fails.
#include "delivery/breaker.h"

#include <boost/test/unit_test.hpp>

#include "delivery/delivery_queue.h"
#include "delivery/delivery_test_support.h"
#include "scim/delivery/dispatcher.h"
#include "scim/store/delivery_status.h"

namespace scim::delivery {
namespace {

using namespace std::chrono_literals;
using testing::AddEvent;
using testing::Backend;
using testing::CheckExactlyOnceInOrder;
using testing::DeliveryIdOf;
using testing::DeliveryStatusOf;
using testing::FakeAdapter;
using testing::PgAvailable;
using testing::QueryInt;
using testing::Recorder;
using testing::TestDatabase;
using testing::WaitFor;

BOOST_AUTO_TEST_SUITE(breaker)

BOOST_AUTO_TEST_CASE(opens_after_a_streak_and_backs_off_its_probes) {
  const BreakerPolicy policy{3, 1000, 4000};
  store::TargetHealth h;
  // The first target-wide failure after an answer may be this record's: it counts.
  OutageVerdict v = ApplyOutage(h, policy, "HTTP 503", false, false, 10'000, 0.5);
  BOOST_TEST(v.spend_attempt);
  BOOST_TEST(!v.opened);
  BOOST_TEST(!v.paused);
  BOOST_TEST(h.consecutive_failures == 1);
  v = ApplyOutage(h, policy, "HTTP 502", false, false, 10'001, 0.5);
  BOOST_TEST(!v.spend_attempt);
  BOOST_TEST(!v.paused);
  v = ApplyOutage(h, policy, "HTTP 504", false, false, 10'002, 0.0);
  BOOST_TEST(!v.spend_attempt);
  BOOST_TEST(v.opened);
  BOOST_TEST(v.paused);
  BOOST_TEST(h.paused);
  BOOST_TEST(h.paused_since_ms == 10'002);
  BOOST_TEST(h.reason == "HTTP 504");
  BOOST_TEST(h.probe_backoff_ms == 1000);
  BOOST_TEST(h.next_probe_at == 10'002 + 500);  // jitter: between half and all of it

  // A delivery that was in flight when it opened: no new schedule, no attempt.
  v = ApplyOutage(h, policy, "timed out", false, false, 10'100, 0.9);
  BOOST_TEST(!v.spend_attempt);
  BOOST_TEST(!v.opened);
  BOOST_TEST(v.paused);
  BOOST_TEST(h.next_probe_at == 10'502);
  BOOST_TEST(h.reason == "timed out");
  BOOST_TEST(h.paused_since_ms == 10'002);

  // Failed probes double the interval up to the cap.
  v = ApplyOutage(h, policy, "HTTP 503", false, true, 11'000, 0.999999);
  BOOST_TEST(!v.spend_attempt);
  BOOST_TEST(h.probe_backoff_ms == 2000);
  BOOST_TEST(h.next_probe_at >= 11'000 + 1000);
  BOOST_TEST(h.next_probe_at <= 11'000 + 2000);
  ApplyOutage(h, policy, "HTTP 503", false, true, 12'000, 0.5);
  BOOST_TEST(h.probe_backoff_ms == 4000);
  ApplyOutage(h, policy, "HTTP 503", false, true, 13'000, 0.5);
  BOOST_TEST(h.probe_backoff_ms == 4000);
  BOOST_TEST(h.consecutive_failures == 7);
  BOOST_TEST(h.paused_since_ms == 10'002);
}

BOOST_AUTO_TEST_CASE(connection_refused_opens_at_once) {
  store::TargetHealth h;
  OutageVerdict v =
      ApplyOutage(h, BreakerPolicy{3, 1000, 60000}, "connection refused", true, false, 5, 0.5);
  BOOST_TEST(v.opened);
  BOOST_TEST(!v.spend_attempt);
  BOOST_TEST(h.paused);
  BOOST_TEST(h.consecutive_failures == 1);
}

BOOST_AUTO_TEST_CASE(probe_delay_is_jittered_within_bounds) {
  for (double r : {0.0, 0.25, 0.5, 0.999}) {
    int64_t d = ProbeDelayMs(1000, r);
    BOOST_TEST(d >= 500);
    BOOST_TEST(d <= 1000);
  }
  BOOST_TEST(ProbeDelayMs(0, 0.0) == 1);
}

events::DeliveryOutcome Unavailable() {
  auto outcome = events::DeliveryOutcome::Retry("POST /users: HTTP 503: down for maintenance");
  outcome.target_unavailable = true;
  return outcome;
}

// Target down far longer than the retry window (max_attempts 2, backoff 1..2 ms): nothing
// fails, no row spends more than the one attempt of the streak's first failure, the target is
// called only by probes once paused; when it answers again every change arrives once, in order.
void OutageOfAnyLength(Backend backend) {
  TestDatabase db(backend);
  auto recorder = std::make_shared<Recorder>();
  auto adapter = std::make_shared<FakeAdapter>("crm", recorder);
  std::atomic<bool> up{false};
  adapter->SetScript([&](const events::ChangeEvent& e, int) {
    if (!up.load()) return Unavailable();
    return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
  });
  std::vector<int64_t> seqs;
  for (int i = 0; i < 12; ++i) {
    seqs.push_back(AddEvent(*db, "u" + std::to_string(i % 4), i < 4 ? "created" : "patched"));
  }
  DispatcherOptions options;
  options.owner_id = "breaker-test";
  options.claim_batch = 4;
  options.breaker = BreakerPolicy{3, 20, 80};
  Dispatcher d(db.db(), {{adapter, RetryPolicy{2, 1, 2}}}, options);

  // 1.5 s of outage: with 1-2 ms backoff and 2 attempts, the old engine failed every row.
  auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    auto n = d.RunOnce();
    BOOST_TEST_REQUIRE(n.ok(), (n.ok() ? std::string() : n.error().detail));
    std::this_thread::sleep_for(5ms);
  }
  auto status = store::SyncStatus(*db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].failed == 0);
  BOOST_TEST((*status)[0].blocked == 0);
  BOOST_TEST((*status)[0].paused);
  BOOST_TEST((*status)[0].pause_reason.value_or("").find("HTTP 503") != std::string::npos);
  BOOST_TEST((*status)[0].paused_since.has_value());
  for (int64_t seq : seqs) {
    int64_t id = DeliveryIdOf(*db, "crm", seq);
    BOOST_TEST(QueryInt(*db, "SELECT attempts FROM deliveries WHERE id = :id", id) <= 1);
    BOOST_TEST(DeliveryStatusOf(*db, "crm", seq) == "pending");
  }
  // Probes at 20, 40, 80, 80, ... ms: about 20 in 1.5 s, far from a call per row per backoff.
  size_t calls_during_outage = recorder->calls().size();
  BOOST_TEST(calls_during_outage >= 4u);
  BOOST_TEST(calls_during_outage <= 40u, calls_during_outage);

  up = true;
  bool done = WaitFor([&] {
    auto n = d.RunOnce();
    BOOST_TEST_REQUIRE(n.ok());
    for (int64_t seq : seqs) {
      if (DeliveryStatusOf(*db, "crm", seq) != "delivered") return false;
    }
    return true;
  });
  BOOST_TEST_REQUIRE(done);
  CheckExactlyOnceInOrder(recorder->calls(), seqs);
  status = store::SyncStatus(*db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST(!(*status)[0].paused);
  BOOST_TEST((*status)[0].failed == 0);
}

BOOST_AUTO_TEST_CASE(outage_of_any_length_sqlite) { OutageOfAnyLength(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(outage_of_any_length_pg, *boost::unit_test::precondition(PgAvailable())) {
  OutageOfAnyLength(Backend::kPostgres);
}

// While the target answers, a 400/422 for one payload fails that delivery alone and pauses
// nothing; a lone 5xx between successes is retried as the record's own attempt.
void PerRecordFailureDoesNotPause(Backend backend) {
  TestDatabase db(backend);
  auto recorder = std::make_shared<Recorder>();
  auto adapter = std::make_shared<FakeAdapter>("crm", recorder);
  int64_t a1 = AddEvent(*db, "a", "created");
  int64_t b1 = AddEvent(*db, "b", "created");
  int64_t b2 = AddEvent(*db, "b", "patched");
  adapter->SetScript([&](const events::ChangeEvent& e, int attempt) {
    if (e.seq == a1) return events::DeliveryOutcome::Failed("HTTP 422: email is invalid");
    if (e.seq == b1 && attempt == 1) return Unavailable();
    return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
  });
  DispatcherOptions options;
  options.owner_id = "breaker-test";
  options.breaker = BreakerPolicy{3, 20, 80};
  Dispatcher d(db.db(), {{adapter, RetryPolicy{2, 1, 2}}}, options);
  bool done = WaitFor([&] {
    auto n = d.RunOnce();
    BOOST_TEST_REQUIRE(n.ok());
    return DeliveryStatusOf(*db, "crm", a1) == "failed" &&
           DeliveryStatusOf(*db, "crm", b2) == "delivered";
  });
  BOOST_TEST_REQUIRE(done);
  BOOST_TEST(DeliveryStatusOf(*db, "crm", b1) == "delivered");
  // b1's lone 503 was the first of a streak: its own attempt.
  BOOST_TEST(QueryInt(*db, "SELECT attempts FROM deliveries WHERE id = :id",
                      DeliveryIdOf(*db, "crm", b1)) == 2);
  auto status = store::SyncStatus(*db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].failed == 1);
  BOOST_TEST(!(*status)[0].paused);
  DeliveryQueue queue(*db.db(), "reader");
  auto health = queue.Health("crm");
  BOOST_TEST_REQUIRE(health.ok());
  BOOST_TEST(!health->paused);
  BOOST_TEST(health->consecutive_failures == 0);
}

BOOST_AUTO_TEST_CASE(per_record_failure_does_not_pause_sqlite) {
  PerRecordFailureDoesNotPause(Backend::kSqlite);
}
BOOST_AUTO_TEST_CASE(per_record_failure_does_not_pause_pg,
                     *boost::unit_test::precondition(PgAvailable())) {
  PerRecordFailureDoesNotPause(Backend::kPostgres);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
