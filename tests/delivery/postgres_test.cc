// PostgreSQL-only behaviour (runs when SCIMD_TEST_PG_URL is set): outbox seqs that commit out of
// order, and several dispatchers (as several scimd processes) sharing one database.
#include <boost/test/unit_test.hpp>
#include <set>

#include "delivery/delivery_queue.h"
#include "delivery/delivery_test_support.h"
#include "scim/delivery/dispatcher.h"
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
using testing::Connect;
using testing::DeliveryStatusOf;
using testing::Exec;
using testing::FakeAdapter;
using testing::InsertOutboxRow;
using testing::PgAvailable;
using testing::QueryInt;
using testing::Recorder;
using testing::TestDatabase;
using testing::WaitFor;

// A writer's transaction as the store runs it: the resource write first, then the outbox row.
int64_t BeginWrite(store::testing::Connection& s, const std::string& id) {
  Exec(s, "BEGIN");
  Exec(s,
       "INSERT INTO audit_log (tenant, time, actor, action, resource_type, resource_id, version) "
       "VALUES ('t1', '2026-01-01T00:00:00.000Z', 'test', 'create', 'User', :id, 1)",
       {id});
  return InsertOutboxRow(s, "t1", "User", id, "created");
}

BOOST_AUTO_TEST_SUITE(postgres, *boost::unit_test::precondition(PgAvailable()))

// A smaller seq that commits after a larger one was fanned out is still delivered; a rolled-back
// seq is eventually given up and the cursor catches up.
BOOST_AUTO_TEST_CASE(late_commit_of_smaller_seq_is_not_lost) {
  TestDatabase db(Backend::kPostgres);
  auto recorder = std::make_shared<Recorder>();
  auto crm = std::make_shared<FakeAdapter>("crm", recorder);
  Dispatcher d(db.db(), {{crm, {}}}, {});
  auto slow = Connect(db.url());

  int64_t early = BeginWrite(*slow, "x");
  int64_t later = AddEvent(*db, "y", "created");
  BOOST_TEST_REQUIRE(early < later);
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  BOOST_TEST(DeliveryStatusOf(*db, "crm", later) == "delivered");
  BOOST_TEST(DeliveryStatusOf(*db, "crm", early) == "<none>");
  const std::string cursor_sql = "SELECT last_seq FROM target_cursors WHERE target = :t";
  BOOST_TEST(QueryInt(*db, cursor_sql, std::string("crm")) < early);
  BOOST_TEST_REQUIRE(d.RunOnce().ok());  // still open: nothing changes
  BOOST_TEST(DeliveryStatusOf(*db, "crm", early) == "<none>");

  Exec(*slow, "COMMIT");
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  BOOST_TEST(DeliveryStatusOf(*db, "crm", early) == "delivered");

  int64_t rolled_back = BeginWrite(*slow, "z");
  int64_t after = AddEvent(*db, "w", "created");
  BOOST_TEST_REQUIRE(d.RunOnce().ok());
  Exec(*slow, "ROLLBACK");
  BOOST_TEST(WaitFor([&] {
    BOOST_TEST_REQUIRE(d.RunOnce().ok());
    return QueryInt(*db, cursor_sql, std::string("crm")) >= after;
  }));
  BOOST_TEST(DeliveryStatusOf(*db, "crm", after) == "delivered");
  BOOST_TEST(DeliveryStatusOf(*db, "crm", rolled_back) == "<none>");
  BOOST_TEST(QueryInt(*db, "SELECT COUNT(*) FROM target_cursors WHERE gaps <> '' AND target = :t",
                      std::string("crm")) == 0);
  CheckExactlyOnceInOrder(recorder->calls(), {later, early, after});
}

// A writer holding a smaller seq may have a larger xid than every committed transaction, so
// pg_snapshot_xmax of a later snapshot can equal its xid: its seq must stay open until it ends.
// Driven through DeliveryQueue so that no other transaction commits in between.
BOOST_AUTO_TEST_CASE(open_writer_with_newest_xid_is_waited_for) {
  TestDatabase db(Backend::kPostgres);
  FakeAdapter crm("crm", std::make_shared<Recorder>());
  DeliveryQueue queue(*db, "test-owner");
  BOOST_TEST_REQUIRE(queue.EnsureCursor("crm", "crm").ok());
  auto other = Connect(db.url());
  auto slow = Connect(db.url());

  Exec(*other, "BEGIN");
  Exec(*other,
       "INSERT INTO audit_log (tenant, time, actor, action, resource_type, resource_id, "
       "version) VALUES ('t1', '2026-01-01T00:00:00.000Z', 'test', 'create', 'User', 'o', 1)");
  int64_t early = BeginWrite(*slow, "x");  // xid after other's, seq before other's
  int64_t later = InsertOutboxRow(*other, "t1", "User", "o", "created");
  Exec(*other, "COMMIT");
  BOOST_TEST_REQUIRE(early < later);
  const std::string queued = "SELECT COUNT(*) FROM deliveries WHERE target = 'crm' AND seq = :s";
  for (int i = 0; i < 4; ++i) BOOST_TEST_REQUIRE(queue.FanOut(crm, 100).ok());
  BOOST_TEST(QueryInt(*db, queued, later) == 1);
  BOOST_TEST(QueryInt(*db, queued, early) == 0);
  BOOST_TEST(QueryInt(*db, "SELECT COUNT(*) FROM target_cursors WHERE gaps <> '' AND target = :t",
                      std::string("crm")) == 1);

  Exec(*slow, "COMMIT");
  BOOST_TEST_REQUIRE(queue.FanOut(crm, 100).ok());
  BOOST_TEST(QueryInt(*db, queued, early) == 1);
}

// Two dispatchers with different owner ids (two processes) on one database, with writers
// committing concurrently and some first attempts asking for a retry: every event delivered
// exactly once, in order per resource, never two at once for one resource.
BOOST_AUTO_TEST_CASE(two_dispatchers_deliver_each_event_once) {
  TestDatabase db(Backend::kPostgres);
  auto recorder = std::make_shared<Recorder>();
  std::mutex seen_mu;
  std::set<int64_t> seen;
  auto script = [&](const events::ChangeEvent& e, int) {
    {
      std::lock_guard<std::mutex> lock(seen_mu);
      if (e.seq % 7 == 0 && seen.insert(e.seq).second) {
        return events::DeliveryOutcome::Retry("first attempt of every 7th event fails");
      }
    }
    return events::DeliveryOutcome::Delivered("crm-" + e.resource_id);
  };
  std::vector<std::shared_ptr<FakeAdapter>> adapters;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers;
  for (const char* owner : {"process-1", "process-2"}) {
    auto adapter = std::make_shared<FakeAdapter>("crm", recorder);
    adapter->SetInstance(owner);
    adapter->SetScript(script);
    adapter->SetDelay(1ms);
    DispatcherOptions options;
    options.owner_id = owner;
    options.workers_per_target = 2;
    options.claim_batch = 4;
    options.poll_interval = 20ms;
    dispatchers.push_back(std::make_unique<Dispatcher>(
        db.Open(6), std::vector<DispatchTarget>{{adapter, {10, 5, 20}}}, options));
    adapters.push_back(adapter);
  }
  for (auto& d : dispatchers) BOOST_TEST_REQUIRE(d->Start().ok());

  constexpr int kWriters = 4, kPerWriter = 100, kResourcesPerWriter = 5;
  std::mutex seqs_mu;
  std::vector<int64_t> seqs;
  std::vector<std::thread> writers;
  auto writer_db = db.Open(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::string id = "r" + std::to_string(w) + "_" + std::to_string(i % kResourcesPerWriter);
        int64_t seq = AddEvent(*writer_db, id, i < kResourcesPerWriter ? "created" : "patched");
        {
          std::lock_guard<std::mutex> lock(seqs_mu);
          seqs.push_back(seq);
        }
        dispatchers[i % 2]->Notify();
      }
    });
  }
  for (auto& t : writers) t.join();
  const size_t total = kWriters * kPerWriter;
  BOOST_TEST_REQUIRE(WaitFor([&] { return recorder->DeliveredCount() >= total; }, 120s));
  BOOST_TEST(WaitFor([&] {
    auto status = SyncStatus(*db, {{"crm", "fake"}});
    return status.ok() && (*status)[0].delivered == static_cast<int64_t>(total);
  }));
  for (auto& d : dispatchers) d->Stop();

  auto calls = recorder->calls();
  CheckExactlyOnceInOrder(calls, seqs);
  BOOST_TEST(recorder->overlaps() == 0);
  std::map<std::string, int> by_process;
  for (const auto& c : calls) ++by_process[c.adapter];
  BOOST_TEST_MESSAGE("calls by process-1: " << by_process["process-1"]
                                            << ", process-2: " << by_process["process-2"]);
  auto status = SyncStatus(*db, {{"crm", "fake"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].pending == 0);
  BOOST_TEST((*status)[0].failed == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
