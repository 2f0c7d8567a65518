// Batch delivery (TargetAdapter::Batchable / MaxBatch / DeliverBatch) through the dispatcher on a
// real database (SQLite; PostgreSQL too when SCIMD_TEST_PG_URL is set): the batchable events of
// a claim go to the adapter in calls of at most MaxBatch() events, each event keeps its own
// outcome and link, per-resource order holds, and a target-wide failure of one call counts once
// for the breaker without spending the other events' attempts.
#include <boost/test/unit_test.hpp>

#include "delivery/delivery_queue.h"
#include "delivery/delivery_test_support.h"
#include "scim/delivery/dispatcher.h"
#include "scim/store/delivery_status.h"

namespace scim::delivery {
namespace {

using testing::AddEvent;
using testing::Backend;
using testing::CheckExactlyOnceInOrder;
using testing::DeliveryIdOf;
using testing::DeliveryStatusOf;
using testing::FakeAdapter;
using testing::PgAvailable;
using testing::QueryInt;
using testing::QueryText;
using testing::Recorder;
using testing::TestDatabase;
using testing::WaitFor;

// Groups (not deletes) are batchable, up to `max_batch` per call; every call's size is kept.
class BatchingAdapter : public FakeAdapter {
 public:
  BatchingAdapter(std::shared_ptr<Recorder> recorder, int max_batch)
      : FakeAdapter("crm", std::move(recorder)), max_batch_(max_batch) {}

  bool Batchable(const events::ChangeEvent& event) const override {
    return event.resource_type == "Group" && event.kind != events::ChangeKind::kDeleted;
  }
  int MaxBatch() const override { return max_batch_; }
  std::vector<events::DeliveryOutcome> DeliverBatch(const std::vector<BatchItem>& items) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      sizes_.push_back(items.size());
      for (const BatchItem& item : items) {
        BOOST_TEST(Batchable(*item.event));
        batched_.push_back(item.event->seq);
      }
    }
    return TargetAdapter::DeliverBatch(items);  // FakeAdapter::Deliver per item (recorded)
  }

  std::vector<size_t> sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sizes_;
  }
  std::vector<int64_t> batched() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batched_;
  }

 private:
  int max_batch_;
  mutable std::mutex mu_;
  std::vector<size_t> sizes_;
  std::vector<int64_t> batched_;
};

struct BatchSetup {
  explicit BatchSetup(Backend backend, int max_batch = 5)
      : db(backend),
        recorder(std::make_shared<Recorder>()),
        adapter(std::make_shared<BatchingAdapter>(recorder, max_batch)) {}

  std::unique_ptr<Dispatcher> MakeDispatcher(DispatcherOptions options = {}) {
    options.owner_id = "batch-test";
    return std::make_unique<Dispatcher>(db.db(), std::vector<DispatchTarget>{{adapter, retry}},
                                        options);
  }

  void RunUntilDelivered(Dispatcher& d, const std::vector<int64_t>& seqs) {
    bool done = WaitFor([&] {
      auto n = d.RunOnce();
      BOOST_TEST_REQUIRE(n.ok(), (n.ok() ? std::string() : n.error().detail));
      for (int64_t seq : seqs) {
        const std::string status = DeliveryStatusOf(*db, "crm", seq);
        if (status != "delivered" && status != "failed") return false;
      }
      return true;
    });
    BOOST_TEST_REQUIRE(done);
  }

  TestDatabase db;
  std::shared_ptr<Recorder> recorder;
  std::shared_ptr<BatchingAdapter> adapter;
  RetryPolicy retry{3, 1, 2};
};

// 12 new groups, users in between and later changes of some groups: the groups of each claim
// go in calls of at most 5, users one by one; each event once, in order per resource.
void GroupsGoInBatches(Backend backend) {
  BatchSetup t(backend);
  std::vector<int64_t> seqs, group_seqs;
  for (int i = 0; i < 12; ++i) {
    group_seqs.push_back(AddEvent(*t.db, "g" + std::to_string(i), "created", "Group"));
    seqs.push_back(group_seqs.back());
    if (i % 4 == 0) seqs.push_back(AddEvent(*t.db, "u" + std::to_string(i), "created"));
  }
  // Later changes of g0 and g1 wait behind their creation: a later claim, a later call.
  group_seqs.push_back(AddEvent(*t.db, "g0", "replaced", "Group"));
  group_seqs.push_back(AddEvent(*t.db, "g1", "patched", "Group"));
  seqs.push_back(group_seqs[group_seqs.size() - 2]);
  seqs.push_back(group_seqs.back());
  DispatcherOptions options;
  options.claim_batch = 2;  // a claim with groups in it takes more, up to MaxBatch() (5)
  auto d = t.MakeDispatcher(options);
  t.RunUntilDelivered(*d, seqs);

  CheckExactlyOnceInOrder(t.recorder->calls(), seqs);
  BOOST_TEST(t.recorder->overlaps() == 0);
  std::vector<size_t> sizes = t.adapter->sizes();
  size_t total = 0;
  for (size_t n : sizes) {
    BOOST_TEST(n >= 1u);
    BOOST_TEST(n <= 5u);
    total += n;
  }
  BOOST_TEST(total == group_seqs.size());  // every group event went through DeliverBatch
  // Claims of 2 rows grow to 5 batchable ones when they hold a group: 12 creations and the 2
  // later changes in about 3 calls (14 / 5), never one call per group.
  BOOST_TEST(sizes.size() >= 3u);
  BOOST_TEST(sizes.size() <= 6u, sizes.size());
  BOOST_TEST(sizes.front() == 5u);
  // Each event's link is its own.
  for (int i = 0; i < 12; ++i) {
    BOOST_TEST(QueryText(*t.db,
                         "SELECT external_id FROM target_links WHERE target = 'crm' AND "
                         "resource_id = 'g' || CAST(:n AS TEXT)",
                         i) == "crm-g" + std::to_string(i));
  }
}

BOOST_AUTO_TEST_SUITE(batch)

BOOST_AUTO_TEST_CASE(groups_go_in_batches_sqlite) { GroupsGoInBatches(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(groups_go_in_batches_pg, *boost::unit_test::precondition(PgAvailable())) {
  GroupsGoInBatches(Backend::kPostgres);
}

// One record of a call refused (kFailed), one asked to retry: each has its own outcome, the
// rest of the call is delivered.
void OutcomesPerEvent(Backend backend) {
  BatchSetup t(backend);
  std::vector<int64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    seqs.push_back(AddEvent(*t.db, "g" + std::to_string(i), "created", "Group"));
  }
  t.adapter->SetScript([&](const events::ChangeEvent& e, int attempt) {
    if (e.resource_id == "g1") return events::DeliveryOutcome::Failed("name is required");
    if (e.resource_id == "g3" && attempt == 1) return events::DeliveryOutcome::Retry("busy");
    return events::DeliveryOutcome::Delivered("crm-" + e.resource_id);
  });
  auto d = t.MakeDispatcher();
  t.RunUntilDelivered(*d, seqs);
  BOOST_TEST(t.adapter->sizes().front() == 5u);
  BOOST_TEST(DeliveryStatusOf(*t.db, "crm", seqs[1]) == "failed");
  BOOST_TEST(QueryText(*t.db, "SELECT last_error FROM deliveries WHERE id = :id",
                       DeliveryIdOf(*t.db, "crm", seqs[1])) == "name is required");
  for (size_t i : {0u, 2u, 3u, 4u}) {
    BOOST_TEST(DeliveryStatusOf(*t.db, "crm", seqs[i]) == "delivered", "g" << i);
  }
  BOOST_TEST(QueryInt(*t.db, "SELECT attempts FROM deliveries WHERE id = :id",
                      DeliveryIdOf(*t.db, "crm", seqs[3])) == 2);
  BOOST_TEST(QueryInt(*t.db,
                      "SELECT COUNT(*) FROM target_links WHERE target = 'crm' AND "
                      "tenant = :t",
                      std::string("t1")) == 4);
}

BOOST_AUTO_TEST_CASE(outcomes_per_event_sqlite) { OutcomesPerEvent(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(outcomes_per_event_pg, *boost::unit_test::precondition(PgAvailable())) {
  OutcomesPerEvent(Backend::kPostgres);
}

// A call that fails target-wide (503 for every event) is one failure for the breaker: after
// open_after (3) such calls the target is paused, no row failed, at most one attempt spent per
// row, and nothing is lost when it answers again.
void TargetWideCallCountsOnce(Backend backend) {
  BatchSetup t(backend);
  std::vector<int64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    seqs.push_back(AddEvent(*t.db, "g" + std::to_string(i), "created", "Group"));
  }
  std::atomic<bool> up{false};
  t.adapter->SetScript([&](const events::ChangeEvent& e, int) {
    if (!up.load()) {
      auto outcome = events::DeliveryOutcome::Retry("HTTP 503");
      outcome.target_unavailable = true;
      return outcome;
    }
    return events::DeliveryOutcome::Delivered("crm-" + e.resource_id);
  });
  DispatcherOptions options;
  options.breaker = BreakerPolicy{3, 20, 80};
  auto d = t.MakeDispatcher(options);
  auto n = d->RunOnce();
  BOOST_TEST_REQUIRE(n.ok());
  BOOST_TEST(t.adapter->sizes().size() == 3u);  // three calls of 5, then paused
  DeliveryQueue queue(*t.db.db(), "reader");
  auto health = queue.Health("crm");
  BOOST_TEST_REQUIRE(health.ok());
  BOOST_TEST(health->paused);
  BOOST_TEST(health->consecutive_failures == 3);
  long long spent = 0;
  for (int64_t seq : seqs) {
    BOOST_TEST(DeliveryStatusOf(*t.db, "crm", seq) == "pending");
    long long attempts = QueryInt(*t.db, "SELECT attempts FROM deliveries WHERE id = :id",
                                  DeliveryIdOf(*t.db, "crm", seq));
    BOOST_TEST(attempts <= 1);
    spent += attempts;
  }
  BOOST_TEST(spent == 1);  // the streak's first failure only
  up = true;
  t.RunUntilDelivered(*d, seqs);
  for (int64_t seq : seqs) BOOST_TEST(DeliveryStatusOf(*t.db, "crm", seq) == "delivered");
}

BOOST_AUTO_TEST_CASE(target_wide_call_counts_once_sqlite) {
  TargetWideCallCountsOnce(Backend::kSqlite);
}
BOOST_AUTO_TEST_CASE(target_wide_call_counts_once_pg,
                     *boost::unit_test::precondition(PgAvailable())) {
  TargetWideCallCountsOnce(Backend::kPostgres);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
