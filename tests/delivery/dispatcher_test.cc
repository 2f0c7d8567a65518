// The delivery engine against a real database (SQLite; PostgreSQL too when SCIMD_TEST_PG_URL is
// set) with an in-process fake target: ordering per resource, retries, failures, leases, links.
#include "scim/delivery/dispatcher.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <random>

#include "delivery/delivery_queue.h"
#include "delivery/delivery_test_support.h"
#include "scim/store/delivery_status.h"

namespace scim::delivery {
namespace {

using store::LinksOf;
using store::ListDeliveries;
using store::RetryDelivery;
using store::RetryFailed;
using store::SyncStatus;

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
using testing::Unwrap;
using testing::WaitFor;

constexpr const char* kAttemptsSql = "SELECT attempts FROM deliveries WHERE id = :id";
constexpr const char* kNextSql = "SELECT next_attempt_at FROM deliveries WHERE id = :id";

struct Setup {
  explicit Setup(Backend backend, RetryPolicy retry = {10, 20, 100})
      : db(backend),
        recorder(std::make_shared<Recorder>()),
        adapter(std::make_shared<FakeAdapter>("crm", recorder)),
        retry(retry) {}

  std::unique_ptr<Dispatcher> MakeDispatcher(DispatcherOptions options = {}) {
    if (options.owner_id.empty()) options.owner_id = "test-owner";
    return std::make_unique<Dispatcher>(db.db(), std::vector<DispatchTarget>{{adapter, retry}},
                                        options);
  }

  // Synchronous passes until `done` holds (retries come due on their own).
  void RunUntil(Dispatcher& d, const std::function<bool()>& done) {
    bool ok = WaitFor([&] {
      auto n = d.RunOnce();
      BOOST_TEST_REQUIRE(n.ok(), (n.ok() ? std::string() : n.error().detail));
      return done();
    });
    BOOST_TEST_REQUIRE(ok);
  }

  TestDatabase db;
  std::shared_ptr<Recorder> recorder;
  std::shared_ptr<FakeAdapter> adapter;
  RetryPolicy retry;
};

// Interleaved events of several resources, half committed before Start() and half while the
// dispatcher runs: each delivered once, in commit order per resource, never two at a time for one
// resource.
void CommitOrderPerResource(Backend backend) {
  Setup t(backend);
  t.adapter->SetDelay(1ms);
  std::vector<int64_t> seqs;
  std::vector<std::string> kinds = {"created", "patched", "replaced", "patched"};
  for (int i = 0; i < 40; ++i) {
    seqs.push_back(AddEvent(*t.db, "u" + std::to_string(i % 5), kinds[(i / 5) % 4]));
  }
  DispatcherOptions options;
  options.workers_per_target = 3;
  options.claim_batch = 2;
  auto d = t.MakeDispatcher(options);
  BOOST_TEST_REQUIRE(d->Start().ok());
  for (int i = 40; i < 80; ++i) {
    seqs.push_back(AddEvent(*t.db, "u" + std::to_string(i % 5), "patched"));
    d->Notify();
  }
  BOOST_TEST_REQUIRE(WaitFor([&] { return t.recorder->DeliveredCount() >= seqs.size(); }));
  d->Stop();
  CheckExactlyOnceInOrder(t.recorder->calls(), seqs);
  BOOST_TEST(t.recorder->overlaps() == 0);
  auto status = SyncStatus(*t.db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].delivered == 80);
  BOOST_TEST((*status)[0].pending == 0);
  for (const auto& call : t.recorder->calls()) {
    BOOST_TEST(call.idempotency_key == "crm:" + std::to_string(call.seq));
  }
}

// Every call of t's adapter delivers, and first appends to `in_flight` how many rows are in
// flight while it runs (the size of the claim the call belongs to).
void RecordInFlightPerCall(Setup& t, std::vector<long long>& in_flight) {
  t.adapter->SetScript([&t, &in_flight](const events::ChangeEvent& event, int) {
    in_flight.push_back(QueryInt(*t.db, "SELECT count(*) FROM deliveries WHERE status = :s",
                                 std::string("in_flight")));
    return events::DeliveryOutcome::Delivered("crm-" + event.resource_id);
  });
}

// A backlog: claims double after each full one, up to backlog_claim_batch, and start again at
// claim_batch after a short one; another tenant's row queued behind the backlog is in the first
// claim all the same (each tenant gets its share of every claim). The claim of a pass is what is
// in flight while its calls run (outcomes are recorded after the pass).
void ClaimsGrowAtABacklog(Backend backend) {
  Setup t(backend);
  std::vector<int64_t> seqs;
  for (int i = 0; i < 40; ++i) seqs.push_back(AddEvent(*t.db, "u" + std::to_string(i), "created"));
  auto other = store::testing::InsertOutboxRow(*t.db, "t2", "User", "v0", "created");
  BOOST_TEST_REQUIRE(other.ok());
  std::vector<long long> in_flight;  // per call
  RecordInFlightPerCall(t, in_flight);
  DispatcherOptions options;
  options.claim_batch = 2;
  options.backlog_claim_batch = 8;
  auto d = t.MakeDispatcher(options);
  auto n = d->RunOnce();
  BOOST_TEST_REQUIRE(n.ok(), (n.ok() ? std::string() : n.error().detail));
  BOOST_TEST_REQUIRE(in_flight.size() == 41u);
  // Passes of 2 (t1 and t2 share the first), 4, then 8 at a time: 2+4+8+8+8+8 = 38, and 3 left.
  const std::vector<long long> passes = {2, 4, 8, 8, 8, 8, 3};
  size_t call = 0;
  for (long long size : passes) {
    for (long long k = 0; k < size && call < in_flight.size(); ++k, ++call) {
      BOOST_TEST(in_flight[call] == size, "call " << call);
    }
  }
  bool other_in_first_claim = false;
  for (size_t i = 0; i < 2; ++i) other_in_first_claim |= t.recorder->calls()[i].seq == *other;
  BOOST_TEST(other_in_first_claim);
  seqs.push_back(*other);
  CheckExactlyOnceInOrder(t.recorder->calls(), seqs);

  // A short claim ends the growth: the next backlog starts at claim_batch again.
  in_flight.clear();
  for (int i = 0; i < 5; ++i) AddEvent(*t.db, "w" + std::to_string(i), "created");
  n = d->RunOnce();
  BOOST_TEST_REQUIRE(n.ok());
  BOOST_TEST(in_flight == (std::vector<long long>{2, 2, 3, 3, 3}), "sizes after a short claim");
}

// backlog_claim_batch at or below claim_batch: fixed claims, as before.
void FixedClaimsWithoutBacklogGrowth(Backend backend) {
  Setup t(backend);
  for (int i = 0; i < 12; ++i) AddEvent(*t.db, "u" + std::to_string(i), "created");
  std::vector<long long> in_flight;
  RecordInFlightPerCall(t, in_flight);
  DispatcherOptions options;
  options.claim_batch = 3;
  options.backlog_claim_batch = 1;
  auto d = t.MakeDispatcher(options);
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(in_flight == std::vector<long long>(12, 3));
}

BOOST_AUTO_TEST_SUITE(dispatcher)

BOOST_AUTO_TEST_CASE(claims_grow_at_a_backlog_sqlite) { ClaimsGrowAtABacklog(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(claims_grow_at_a_backlog_pg, *boost::unit_test::precondition(PgAvailable())) {
  ClaimsGrowAtABacklog(Backend::kPostgres);
}
BOOST_AUTO_TEST_CASE(fixed_claims_without_backlog_growth_sqlite) {
  FixedClaimsWithoutBacklogGrowth(Backend::kSqlite);
}
BOOST_AUTO_TEST_CASE(fixed_claims_without_backlog_growth_pg,
                     *boost::unit_test::precondition(PgAvailable())) {
  FixedClaimsWithoutBacklogGrowth(Backend::kPostgres);
}

BOOST_AUTO_TEST_CASE(commit_order_per_resource_sqlite) { CommitOrderPerResource(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(commit_order_per_resource_pg, *boost::unit_test::precondition(PgAvailable())) {
  CommitOrderPerResource(Backend::kPostgres);
}

// A retrying event holds back later events of its own resource only.
void RetryDelaysOnlyItsResource(Backend backend) {
  Setup t(backend, {10, 60000, 60000});  // retries wait until the test makes them due
  int64_t a1 = AddEvent(*t.db, "a", "created");
  int64_t b1 = AddEvent(*t.db, "b", "created");
  int64_t a2 = AddEvent(*t.db, "a", "patched");
  int64_t b2 = AddEvent(*t.db, "b", "patched");
  int64_t c1 = AddEvent(*t.db, "c", "created");
  t.adapter->SetScript([&](const events::ChangeEvent& e, int attempt) {
    if (e.seq == a1 && attempt <= 2) return events::DeliveryOutcome::Retry("target busy", 60);
    return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
  });
  auto d = t.MakeDispatcher();
  auto n = d->RunOnce();
  BOOST_TEST_REQUIRE(n.ok());
  // a1 failed once and waits for its backoff; a2 waits behind it; b and c went through.
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a1) == "pending");
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a2) == "pending");
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", b1) == "delivered");
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", b2) == "delivered");
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", c1) == "delivered");
  BOOST_TEST(QueryInt(*t.db, kAttemptsSql, DeliveryIdOf(*t.db, "crm", a1)) == 1);
  for (const auto& call : t.recorder->calls()) BOOST_TEST(call.seq != a2);
  // a2 is kept off the due list until a1's next attempt; so is a row queued behind them later.
  long long a1_next = QueryInt(*t.db, kNextSql, DeliveryIdOf(*t.db, "crm", a1));
  BOOST_TEST(a1_next >= NowMs() + 50000);
  BOOST_TEST(QueryInt(*t.db, kNextSql, DeliveryIdOf(*t.db, "crm", a2)) == a1_next);
  int64_t a3 = AddEvent(*t.db, "a", "patched");
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(QueryInt(*t.db, kNextSql, DeliveryIdOf(*t.db, "crm", a3)) == a1_next);
  auto list = ListDeliveries(*t.db, std::string("pending"), std::string("crm"), 10);
  BOOST_TEST_REQUIRE(list.ok());
  BOOST_TEST_REQUIRE(list->size() == 3u);  // a3, a2, a1: newest first
  BOOST_TEST((*list)[2].last_error.value_or("") == "target busy");
  BOOST_TEST((*list)[0].last_error.has_value() == false);

  const std::string make_due =
      "UPDATE deliveries SET next_attempt_at = 0 WHERE status = 'pending' AND seq IN (" +
      std::to_string(a1) + "," + std::to_string(a2) + "," + std::to_string(a3) + ")";
  testing::Exec(*t.db, make_due);
  BOOST_TEST_REQUIRE(d->RunOnce().ok());  // second attempt: retry again
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a2) == "pending");
  testing::Exec(*t.db, make_due);
  BOOST_TEST_REQUIRE(d->RunOnce().ok());  // third attempt succeeds; a2, a3 follow in the same pass
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a2) == "delivered");
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a3) == "delivered");
  CheckExactlyOnceInOrder(t.recorder->calls(), {a1, b1, a2, b2, c1, a3});
  BOOST_TEST(QueryInt(*t.db, kAttemptsSql, DeliveryIdOf(*t.db, "crm", a1)) == 3);
  // The successful attempt cleared the error.
  auto status = SyncStatus(*t.db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST(!(*status)[0].last_error.has_value());
}

BOOST_AUTO_TEST_CASE(retry_delays_only_its_resource_sqlite) {
  RetryDelaysOnlyItsResource(Backend::kSqlite);
}
BOOST_AUTO_TEST_CASE(retry_delays_only_its_resource_pg,
                     *boost::unit_test::precondition(PgAvailable())) {
  RetryDelaysOnlyItsResource(Backend::kPostgres);
}

// After max_attempts the delivery fails and holds its resource until re-queued; then everything
// goes out in order.
void MaxAttemptsThenRetry(Backend backend) {
  Setup t(backend, {3, 1, 2});
  std::atomic<bool> target_up{false};
  t.adapter->SetScript([&](const events::ChangeEvent& e, int) {
    if (!target_up.load()) return events::DeliveryOutcome::Retry("connection refused");
    return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
  });
  int64_t a1 = AddEvent(*t.db, "a", "created");
  auto d = t.MakeDispatcher();
  t.RunUntil(*d, [&] { return DeliveryStatusOf(*t.db, "crm", a1) == "failed"; });
  int64_t a2 = AddEvent(*t.db, "a", "patched");
  int64_t id = DeliveryIdOf(*t.db, "crm", a1);
  BOOST_TEST(QueryInt(*t.db, kAttemptsSql, id) == 3);
  BOOST_TEST(t.recorder->calls().size() == 3u);
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a2) == "pending");  // held behind the failure
  BOOST_TEST(t.recorder->calls().size() == 3u);
  int64_t a2_id = DeliveryIdOf(*t.db, "crm", a2);
  BOOST_TEST(QueryInt(*t.db, kNextSql, a2_id) == kParkedMs);

  auto status = SyncStatus(*t.db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].failed == 1);
  BOOST_TEST((*status)[0].pending == 1);
  BOOST_TEST((*status)[0].blocked == 1);
  BOOST_TEST((*status)[0].last_error.value_or("") ==
             "gave up after 3 attempts: connection refused");

  // Only failed deliveries can be re-queued.
  Status not_failed = RetryDelivery(*t.db, DeliveryIdOf(*t.db, "crm", a2));
  BOOST_TEST_REQUIRE(!not_failed.ok());
  BOOST_TEST((not_failed.error().code == ErrorCode::kConflict));
  Status missing = RetryDelivery(*t.db, 987654321);
  BOOST_TEST_REQUIRE(!missing.ok());
  BOOST_TEST((missing.error().code == ErrorCode::kNotFound));

  target_up = true;
  BOOST_TEST_REQUIRE(RetryDelivery(*t.db, id).ok());
  BOOST_TEST(QueryInt(*t.db, kAttemptsSql, id) == 0);
  BOOST_TEST(QueryInt(*t.db, kNextSql, a2_id) <= NowMs());
  t.RunUntil(*d, [&] { return DeliveryStatusOf(*t.db, "crm", a2) == "delivered"; });
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a1) == "delivered");
  CheckExactlyOnceInOrder(t.recorder->calls(), {a1, a2});
  auto again = RetryDelivery(*t.db, id);
  BOOST_TEST(!again.ok());
}

BOOST_AUTO_TEST_CASE(max_attempts_then_retry_sqlite) { MaxAttemptsThenRetry(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(max_attempts_then_retry_pg, *boost::unit_test::precondition(PgAvailable())) {
  MaxAttemptsThenRetry(Backend::kPostgres);
}

// A target that keeps answering 429 delays its deliveries without using up their attempts:
// rate limits never turn work into failures.
BOOST_AUTO_TEST_CASE(rate_limited_tries_are_not_attempts) {
  Setup t(Backend::kSqlite, {3, 1, 2});
  t.adapter->SetScript([&](const events::ChangeEvent& e, int attempt) {
    if (attempt <= 6) {
      auto outcome = events::DeliveryOutcome::Retry("HTTP 429 slow down", 0);
      outcome.rate_limited = true;
      return outcome;
    }
    if (attempt == 7) return events::DeliveryOutcome::Retry("HTTP 503");
    return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
  });
  int64_t a1 = AddEvent(*t.db, "a", "created");
  auto d = t.MakeDispatcher();
  t.RunUntil(*d, [&] { return DeliveryStatusOf(*t.db, "crm", a1) != "pending"; });
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a1) == "delivered");
  // Six 429s, one 503 and the success: two attempts counted, under max_attempts = 3.
  BOOST_TEST(QueryInt(*t.db, kAttemptsSql, DeliveryIdOf(*t.db, "crm", a1)) == 2);
  BOOST_TEST(t.recorder->calls().size() == 8u);
}

// A poison event (the target refuses it) fails alone: later changes of the same resource and
// other resources go on; RetryFailed re-queues it.
void PoisonFailsAlone(Backend backend) {
  Setup t(backend);
  int64_t a1 = AddEvent(*t.db, "a", "created");
  int64_t a2 = AddEvent(*t.db, "a", "patched");
  int64_t b1 = AddEvent(*t.db, "b", "created");
  t.adapter->SetScript([&](const events::ChangeEvent& e, int) {
    if (e.seq == a1) return events::DeliveryOutcome::Failed("the CRM requires an email");
    return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
  });
  auto d = t.MakeDispatcher();
  t.RunUntil(*d, [&] {
    return DeliveryStatusOf(*t.db, "crm", a2) == "delivered" &&
           DeliveryStatusOf(*t.db, "crm", b1) == "delivered";
  });
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a1) == "failed");
  BOOST_TEST(t.recorder->calls().size() == 3u);  // no retries of a refused event
  auto failed = ListDeliveries(*t.db, std::string("failed"), std::nullopt, 10);
  BOOST_TEST_REQUIRE(failed.ok());
  BOOST_TEST_REQUIRE(failed->size() == 1u);
  BOOST_TEST((*failed)[0].resource_id == "a");
  BOOST_TEST((*failed)[0].event == "created");
  BOOST_TEST((*failed)[0].attempts == 1);
  BOOST_TEST((*failed)[0].last_error.value_or("") == "the CRM requires an email");
  auto status = SyncStatus(*t.db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].blocked == 0);

  auto other = RetryFailed(*t.db, std::string("dolibarr"));
  BOOST_TEST_REQUIRE(other.ok());
  BOOST_TEST(*other == 0);
  auto requeued = RetryFailed(*t.db, std::string("crm"));
  BOOST_TEST_REQUIRE(requeued.ok());
  BOOST_TEST(*requeued == 1);
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", a1) == "pending");
  auto none = RetryFailed(*t.db, std::nullopt);
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST(*none == 0);
}

BOOST_AUTO_TEST_CASE(poison_fails_alone_sqlite) { PoisonFailsAlone(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(poison_fails_alone_pg, *boost::unit_test::precondition(PgAvailable())) {
  PoisonFailsAlone(Backend::kPostgres);
}

// The schedule lands in next_attempt_at: within the backoff ceiling, or at the Retry-After.
void BackoffSchedule(Backend backend) {
  Setup t(backend, {10, 60000, 600000});
  int64_t a1 = AddEvent(*t.db, "a", "created");
  int64_t b1 = AddEvent(*t.db, "b", "created");
  t.adapter->SetScript([&](const events::ChangeEvent& e, int) {
    if (e.seq == a1) return events::DeliveryOutcome::Retry("busy");
    return events::DeliveryOutcome::Retry("rate limited", 120);
  });
  auto d = t.MakeDispatcher();
  int64_t before = NowMs();
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  int64_t after = NowMs();
  const std::string sql = "SELECT next_attempt_at FROM deliveries WHERE id = :id";
  long long next_a = QueryInt(*t.db, sql, DeliveryIdOf(*t.db, "crm", a1));
  long long next_b = QueryInt(*t.db, sql, DeliveryIdOf(*t.db, "crm", b1));
  BOOST_TEST(next_a >= before + 1);
  BOOST_TEST(next_a <= after + 60000);
  BOOST_TEST(next_b >= before + 120000);  // Retry-After longer than the 60 s ceiling
  BOOST_TEST(next_b <= after + 120000);
  // Not due: another pass leaves b1 alone.
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  int b_calls = 0;
  for (const auto& call : t.recorder->calls()) b_calls += call.seq == b1;
  BOOST_TEST(b_calls == 1);
}

BOOST_AUTO_TEST_CASE(backoff_schedule_sqlite) { BackoffSchedule(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(backoff_schedule_pg, *boost::unit_test::precondition(PgAvailable())) {
  BackoffSchedule(Backend::kPostgres);
}

// A crashed process's in_flight row is claimed again once its lease expires (the lost attempt
// counts); a live lease of another process is left alone.
void ExpiredLeaseReclaimed(Backend backend) {
  Setup t(backend);
  int64_t dead = AddEvent(*t.db, "a", "created");
  int64_t alive = AddEvent(*t.db, "b", "created");
  // Another process fanned both out and then: died during `dead`, is still busy with `alive`.
  {
    DeliveryQueue queue(*t.db, "other-process");
    BOOST_TEST_REQUIRE(queue.EnsureCursor("crm", "fake").ok());
    auto fanned = queue.FanOut(*t.adapter, 100);
    BOOST_TEST_REQUIRE(fanned.ok());
    BOOST_TEST(fanned->queued == 2);
    long long now = NowMs();
    testing::Exec(*t.db,
                  "UPDATE deliveries SET status = 'in_flight', "
                  "lease_owner = 'crashed-process', lease_until = " +
                      std::to_string(now - 5000) + " WHERE seq = " + std::to_string(dead));
    testing::Exec(*t.db,
                  "UPDATE deliveries SET status = 'in_flight', "
                  "lease_owner = 'busy-process', lease_until = " +
                      std::to_string(now + 600000) + " WHERE seq = " + std::to_string(alive));
  }
  DispatcherOptions options;
  options.lease_duration = 3000ms;
  auto d = t.MakeDispatcher(options);
  BOOST_TEST_REQUIRE(d->Start().ok());
  BOOST_TEST_REQUIRE(WaitFor([&] { return DeliveryStatusOf(*t.db, "crm", dead) == "delivered"; }));
  d->Stop();
  BOOST_TEST(QueryInt(*t.db, kAttemptsSql, DeliveryIdOf(*t.db, "crm", dead)) == 2);
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", alive) == "in_flight");
  auto calls = t.recorder->calls();
  BOOST_TEST_REQUIRE(calls.size() == 1u);
  BOOST_TEST(calls[0].seq == dead);
}

BOOST_AUTO_TEST_CASE(expired_lease_reclaimed_sqlite) { ExpiredLeaseReclaimed(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(expired_lease_reclaimed_pg, *boost::unit_test::precondition(PgAvailable())) {
  ExpiredLeaseReclaimed(Backend::kPostgres);
}

// An expired lease on the last allowed attempt fails the delivery instead.
BOOST_AUTO_TEST_CASE(expired_lease_on_last_attempt_fails) {
  Setup t(Backend::kSqlite, {2, 1, 2});
  int64_t seq = AddEvent(*t.db, "a", "created");
  DeliveryQueue queue(*t.db, "crashed");
  BOOST_TEST_REQUIRE(queue.EnsureCursor("crm", "fake").ok());
  BOOST_TEST_REQUIRE(queue.FanOut(*t.adapter, 10).ok());
  testing::Exec(*t.db,
                "UPDATE deliveries SET status = 'in_flight', attempts = 1, "
                "lease_owner = 'crashed', lease_until = 1 WHERE seq = " +
                    std::to_string(seq));
  auto reaped = queue.ReapExpired("crm", t.retry);
  BOOST_TEST_REQUIRE(reaped.ok());
  BOOST_TEST(*reaped == 1);
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", seq) == "failed");
  auto status = SyncStatus(*t.db, {});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].last_error.value_or("").find("crashed") != std::string::npos);
}

// Links: recorded from the outcome, handed to later deliveries (this target's id, every
// target's ids, lookups of other resources), removed on unlink.
void LinksRecordedAndRemoved(Backend backend) {
  TestDatabase db(backend);
  auto recorder = std::make_shared<Recorder>();
  auto dolibarr =
      std::make_shared<FakeAdapter>("dolibarr", recorder, std::set<std::string>{"User"});
  auto crm = std::make_shared<FakeAdapter>("crm", recorder);
  dolibarr->SetInstance("dolibarr");
  crm->SetInstance("crm");
  crm->SetLookup("u1");
  Dispatcher d(db.db(), {{dolibarr, {}}, {crm, {}}}, {});
  int64_t created = AddEvent(*db, "u1", "created");
  int64_t group = AddEvent(*db, "g1", "created", "Group");
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  int64_t patched = AddEvent(*db, "u1", "patched");
  BOOST_TEST_REQUIRE(d.RunOnce().ok());

  auto links = LinksOf(*db, "t1", "u1");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST_REQUIRE(links->size() == 2u);  // by target
  BOOST_TEST((*links)[0].target == "crm");
  BOOST_TEST((*links)[0].resource_type == "User");
  BOOST_TEST((*links)[0].resource_id == "u1");
  BOOST_TEST((*links)[0].external_id == "crm-u1");
  BOOST_TEST((*links)[0].tenant == "t1");
  BOOST_TEST((*links)[1].target == "dolibarr");
  BOOST_TEST((*links)[1].external_id == "dolibarr-u1");
  auto other_tenant = LinksOf(*db, "t2", "u1");
  BOOST_TEST_REQUIRE(other_tenant.ok());
  BOOST_TEST(other_tenant->empty());

  bool saw_patch = false, saw_group = false;
  for (const auto& call : recorder->calls()) {
    if (call.adapter == "crm" && call.seq == created) {
      BOOST_TEST(!call.target_id.has_value());
      BOOST_TEST(call.linked_ids.at("dolibarr") == "dolibarr-u1");  // dolibarr ran first
    }
    if (call.adapter == "crm" && call.seq == group) {
      saw_group = true;
      BOOST_TEST(call.lookup.value_or("<none>") == "crm-u1");
    }
    if (call.adapter == "crm" && call.seq == patched) {
      saw_patch = true;
      BOOST_TEST(call.target_id.value_or("") == "crm-u1");
      BOOST_TEST(call.linked_ids.size() == 2u);
      BOOST_TEST(call.linked_ids.at("dolibarr") == "dolibarr-u1");
    }
  }
  BOOST_TEST(saw_patch);
  BOOST_TEST(saw_group);

  AddEvent(*db, "u1", "deleted");
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  links = LinksOf(*db, "t1", "u1");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST(links->empty());
  links = LinksOf(*db, "t1", "g1");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST_REQUIRE(links->size() == 1u);
  BOOST_TEST((*links)[0].resource_type == "Group");
  // dolibarr does not take Groups: no row was queued for it.
  BOOST_TEST(DeliveryStatusOf(*db, "dolibarr", group) == "<none>");
}

BOOST_AUTO_TEST_CASE(links_recorded_and_removed_sqlite) {
  LinksRecordedAndRemoved(Backend::kSqlite);
}
BOOST_AUTO_TEST_CASE(links_recorded_and_removed_pg,
                     *boost::unit_test::precondition(PgAvailable())) {
  LinksRecordedAndRemoved(Backend::kPostgres);
}

// A retry outcome that still created the resource keeps its link.
BOOST_AUTO_TEST_CASE(link_kept_on_retry) {
  Setup t(Backend::kSqlite, {10, 60000, 60000});
  AddEvent(*t.db, "g1", "created", "Group");
  t.adapter->SetScript([](const events::ChangeEvent&, int) {
    auto outcome = events::DeliveryOutcome::Retry("waiting for members");
    outcome.target_id = "org-7";
    return outcome;
  });
  auto d = t.MakeDispatcher();
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  auto links = LinksOf(*t.db, "t1", "g1");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST_REQUIRE(links->size() == 1u);
  BOOST_TEST((*links)[0].external_id == "org-7");
}

// Notify() wakes an idle dispatcher at once (the poll interval here is far longer than the wait),
// and Stop() does not wait for a stuck target call longer than stop_timeout.
BOOST_AUTO_TEST_CASE(notify_wakes_and_stop_is_bounded) {
  Setup t(Backend::kSqlite);
  DispatcherOptions options;
  options.poll_interval = 60s;
  options.stop_timeout = 200ms;
  options.workers_per_target = 1;
  auto d = t.MakeDispatcher(options);
  BOOST_TEST_REQUIRE(d->Start().ok());
  std::this_thread::sleep_for(100ms);  // let the worker go idle
  int64_t first = AddEvent(*t.db, "a", "created");
  d->Notify();
  BOOST_TEST(WaitFor([&] { return DeliveryStatusOf(*t.db, "crm", first) == "delivered"; }, 20s));

  std::atomic<bool> in_call{false}, call_done{false};
  t.adapter->SetScript([&](const events::ChangeEvent& e, int) {
    in_call = true;
    std::this_thread::sleep_for(3s);
    call_done = true;
    return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
  });
  int64_t slow = AddEvent(*t.db, "b", "created");
  d->Notify();
  BOOST_TEST_REQUIRE(WaitFor([&] { return in_call.load(); }, 20s));
  auto started = std::chrono::steady_clock::now();
  d->Stop();
  BOOST_TEST((std::chrono::steady_clock::now() - started < 2500ms));
  BOOST_TEST(!call_done.load());
  // The thread left behind still records its outcome once the call returns.
  BOOST_TEST(WaitFor([&] { return DeliveryStatusOf(*t.db, "crm", slow) == "delivered"; }, 20s));
  std::this_thread::sleep_for(100ms);
}

// The engine's threads run below the API's CPU priority (DispatcherOptions::niceness, per thread)
// and are named: seen from inside the target call. niceness 0 leaves a worker as it was.
void EngineThreadsNiced(Backend backend) {
  const int process_nice = getpriority(PRIO_PROCESS, 0);
  for (int niceness : {12, 0}) {
    Setup t(backend);
    std::mutex mu;
    std::vector<std::pair<int, std::string>> seen;
    t.adapter->SetScript([&](const events::ChangeEvent& e, int) {
      char name[16] = {0};
      pthread_getname_np(pthread_self(), name, sizeof name);
      std::lock_guard<std::mutex> lock(mu);
      seen.emplace_back(getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid))), name);
      return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
    });
    DispatcherOptions options;
    options.niceness = niceness;
    auto d = t.MakeDispatcher(options);
    BOOST_TEST_REQUIRE(d->Start().ok());
    int64_t seq = AddEvent(*t.db, "n" + std::to_string(niceness), "created");
    d->Notify();
    BOOST_TEST_REQUIRE(
        WaitFor([&] { return DeliveryStatusOf(*t.db, "crm", seq) == "delivered"; }, 20s));
    d->Stop();
    // The test thread itself is untouched (nice is per thread on Linux).
    BOOST_TEST(getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid))) == process_nice);
    std::lock_guard<std::mutex> lock(mu);
    BOOST_TEST_REQUIRE(!seen.empty());
    for (const auto& [nice, name] : seen) {
      BOOST_TEST(nice == std::max(process_nice, niceness));
      BOOST_TEST(name == "scimd-deliver");
    }
  }
}

BOOST_AUTO_TEST_CASE(engine_threads_niced_sqlite) { EngineThreadsNiced(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(engine_threads_niced_pg, *boost::unit_test::precondition(PgAvailable())) {
  EngineThreadsNiced(Backend::kPostgres);
}

// Steady load: one write every few milliseconds, Notify() after each. Reports the lag from commit
// to the Deliver() call (no timing assertion: the machine is shared).
void SteadyLoadLag(Backend backend) {
  Setup t(backend);
  std::mutex mu;
  std::map<int64_t, std::chrono::steady_clock::time_point> committed, delivered;
  t.adapter->SetScript([&](const events::ChangeEvent& e, int) {
    std::lock_guard<std::mutex> lock(mu);
    delivered.emplace(e.seq, std::chrono::steady_clock::now());
    return events::DeliveryOutcome::Delivered("x-" + e.resource_id);
  });
  auto d = t.MakeDispatcher();
  BOOST_TEST_REQUIRE(d->Start().ok());
  std::vector<int64_t> seqs;
  for (int i = 0; i < 300; ++i) {
    int64_t seq = AddEvent(*t.db, "u" + std::to_string(i % 30), i < 30 ? "created" : "patched");
    {
      std::lock_guard<std::mutex> lock(mu);
      committed.emplace(seq, std::chrono::steady_clock::now());
    }
    seqs.push_back(seq);
    d->Notify();
    std::this_thread::sleep_for(3ms);
  }
  BOOST_TEST_REQUIRE(WaitFor([&] { return t.recorder->DeliveredCount() >= seqs.size(); }));
  d->Stop();
  CheckExactlyOnceInOrder(t.recorder->calls(), seqs);
  std::vector<double> lags;
  for (int64_t seq : seqs) {
    auto lag = delivered.at(seq) - committed.at(seq);
    lags.push_back(std::chrono::duration<double, std::milli>(lag).count());
  }
  std::sort(lags.begin(), lags.end());
  BOOST_TEST_MESSAGE((backend == Backend::kSqlite ? "sqlite" : "postgresql")
                     << " commit-to-delivery lag ms: p50 " << lags[lags.size() / 2] << ", p95 "
                     << lags[lags.size() * 95 / 100] << ", max " << lags.back());
}

BOOST_AUTO_TEST_CASE(steady_load_lag_sqlite) { SteadyLoadLag(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(steady_load_lag_pg, *boost::unit_test::precondition(PgAvailable())) {
  SteadyLoadLag(Backend::kPostgres);
}

BOOST_AUTO_TEST_CASE(restart_after_stop) {
  Setup t(Backend::kSqlite);
  auto d = t.MakeDispatcher();
  BOOST_TEST_REQUIRE(d->Start().ok());
  BOOST_TEST(!d->Start().ok());  // already running
  int64_t first = AddEvent(*t.db, "a", "created");
  d->Notify();
  BOOST_TEST_REQUIRE(WaitFor([&] { return DeliveryStatusOf(*t.db, "crm", first) == "delivered"; }));
  d->Stop();
  d->Stop();  // idempotent
  int64_t second = AddEvent(*t.db, "a", "patched");
  BOOST_TEST_REQUIRE(d->Start().ok());
  BOOST_TEST(d->owner_id() == "test-owner");
  BOOST_TEST_REQUIRE(
      WaitFor([&] { return DeliveryStatusOf(*t.db, "crm", second) == "delivered"; }));
  d->Stop();
  CheckExactlyOnceInOrder(t.recorder->calls(), {first, second});
}

BOOST_AUTO_TEST_CASE(start_rejects_duplicate_targets) {
  TestDatabase db(Backend::kSqlite);
  auto recorder = std::make_shared<Recorder>();
  auto a = std::make_shared<FakeAdapter>("crm", recorder);
  auto b = std::make_shared<FakeAdapter>("crm", recorder);
  Dispatcher d(db.db(), {{a, {}}, {b, {}}}, {});
  Status st = d.Start();
  BOOST_TEST_REQUIRE(!st.ok());
  BOOST_TEST((st.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(NewOwnerId() != NewOwnerId());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
