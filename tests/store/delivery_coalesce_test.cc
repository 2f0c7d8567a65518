// Coalescing in DeliveryStore::Claim (CoalesceRule, scim/store/delivery_store.h): behind each
// claimed row the following pending rows of its resource are claimed with it, in seq order,
// and the run stops at the first row that cannot go yet (in backoff, failed, re-queued, refused
// by the rule), so nothing is claimed ahead of a row left behind. On PostgreSQL the claim waits
// for a row a link refresh holds instead of skipping it. SQLite, and PostgreSQL when
// SCIMD_TEST_PG_URL names a server.

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "scim/store/delivery_store.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

const std::string kOwner = "owner-1";

class Queue : public testing::ScratchDatabase {
 public:
  explicit Queue(bool postgres) : testing::ScratchDatabase(postgres, "coalesce"), store(*db) {
    BOOST_TEST_REQUIRE(store.EnsureCursor("crm", "crm").ok());
  }

  int64_t Event(const std::string& id, const std::string& kind, const std::string& tenant = "t1") {
    Exec(
        "INSERT INTO outbox (tenant, resource_type, resource_id, event, version, payload, "
        "created) VALUES ('" +
        tenant + "', 'User', '" + id + "', '" + kind + "', 1, '{\"resource\":{\"id\":\"" + id +
        "\"}}', '2026-01-01T00:00:00.000Z')");
    long long seq = 0;
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           s << "SELECT MAX(seq) FROM outbox", soci::into(seq);
                           return OkStatus();
                         }).ok());
    return seq;
  }

  void FanOut() {
    auto fanned = store.FanOut(
        "crm", [](const events::ChangeEvent&) { return true; }, 1000);
    BOOST_TEST_REQUIRE(fanned.ok());
  }

  std::vector<ClaimedDelivery> Claim(int max_rows, int limit = 10) {
    CoalesceRule rule;
    rule.max_rows = max_rows;
    rule.extend = [](const std::vector<const events::ChangeEvent*>& run,
                     const events::ChangeEvent&) {
      return run.back()->kind != events::ChangeKind::kDeleted;
    };
    auto claimed = store.Claim("crm", kOwner, limit, 60000, &rule);
    BOOST_TEST_REQUIRE(claimed.ok(), (claimed.ok() ? "" : claimed.error().detail));
    return *claimed;
  }

  std::string StatusOf(int64_t seq) {
    std::string status = "<none>";
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           long long key = seq;
                           s << "SELECT status FROM deliveries WHERE target = 'crm' AND seq = :s",
                               soci::use(key), soci::into(status);
                           return OkStatus();
                         }).ok());
    return status;
  }

  DeliveryStore store;
};

std::vector<int64_t> Seqs(const ClaimedDelivery& head) {
  std::vector<int64_t> seqs = {head.seq};
  for (const ClaimedDelivery& c : head.coalesced) seqs.push_back(c.seq);
  return seqs;
}

// A run is claimed behind its first row, up to max_rows, each row with its own event; the rest
// stays pending behind it; a delete ends a run where the rule says so.
void ClaimsRuns(bool postgres) {
  Queue q(postgres);
  int64_t a1 = q.Event("a", "created");
  int64_t a2 = q.Event("a", "patched");
  int64_t b1 = q.Event("b", "created");
  int64_t a3 = q.Event("a", "replaced");
  int64_t a4 = q.Event("a", "patched");
  int64_t b2 = q.Event("b", "deleted");
  int64_t b3 = q.Event("b", "patched");  // never happens after a delete; the rule stops anyway
  q.FanOut();
  std::vector<ClaimedDelivery> claimed = q.Claim(3);
  BOOST_TEST_REQUIRE(claimed.size() == 2u);
  BOOST_TEST((Seqs(claimed[0]) == std::vector<int64_t>{a1, a2, a3}));
  BOOST_TEST((Seqs(claimed[1]) == std::vector<int64_t>{b1, b2}));
  BOOST_TEST(claimed[0].coalesced[1].event.seq == a3);
  BOOST_TEST((claimed[0].coalesced[1].event.kind == events::ChangeKind::kReplaced));
  BOOST_TEST(claimed[0].coalesced[1].event.resource_id == "a");
  BOOST_TEST((claimed[1].coalesced[0].event.kind == events::ChangeKind::kDeleted));
  for (int64_t seq : {a1, a2, a3, b1, b2}) BOOST_TEST(q.StatusOf(seq) == "in_flight");
  BOOST_TEST(q.StatusOf(a4) == "pending");
  BOOST_TEST(q.StatusOf(b3) == "pending");
  // Nothing else is due: a4 and b3 wait behind rows in flight.
  BOOST_TEST(q.Claim(3).empty());
  // Without a rule a claim takes one row per resource, as before.
  Queue plain(postgres);
  plain.Event("a", "created");
  plain.Event("a", "patched");
  plain.FanOut();
  auto one = plain.store.Claim("crm", kOwner, 10, 60000);
  BOOST_TEST_REQUIRE(one.ok());
  BOOST_TEST_REQUIRE(one->size() == 1u);
  BOOST_TEST(one->front().coalesced.empty());
}

// The run stops at a row in backoff, a failed row and a re-queued row; a re-queued first row
// takes none.
void RunStopsAtRowsLeftBehind(bool postgres) {
  Queue q(postgres);
  int64_t a1 = q.Event("a", "created");
  int64_t a2 = q.Event("a", "patched");
  int64_t a3 = q.Event("a", "patched");  // in backoff
  int64_t a4 = q.Event("a", "patched");
  q.FanOut();
  q.Exec("UPDATE deliveries SET next_attempt_at = next_attempt_at + 600000 WHERE seq = " +
         std::to_string(a3));
  std::vector<ClaimedDelivery> claimed = q.Claim(32);
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST((Seqs(claimed[0]) == std::vector<int64_t>{a1, a2}));
  BOOST_TEST(q.StatusOf(a3) == "pending");
  BOOST_TEST(q.StatusOf(a4) == "pending");

  Queue f(postgres);
  int64_t b1 = f.Event("b", "created");
  int64_t b2 = f.Event("b", "patched");
  int64_t b3 = f.Event("b", "patched");
  f.FanOut();
  f.Exec("UPDATE deliveries SET status = 'failed', next_attempt_at = NULL WHERE seq = " +
         std::to_string(b2));
  claimed = f.Claim(32);
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST((Seqs(claimed[0]) == std::vector<int64_t>{b1}));
  BOOST_TEST(f.StatusOf(b3) == "pending");

  Queue r(postgres);
  int64_t c1 = r.Event("c", "created");
  int64_t c2 = r.Event("c", "patched");
  int64_t c3 = r.Event("c", "patched");
  r.FanOut();
  r.Exec("UPDATE deliveries SET requeues = 1 WHERE seq = " + std::to_string(c3));
  claimed = r.Claim(32);
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST((Seqs(claimed[0]) == std::vector<int64_t>{c1, c2}));
  r.Exec(
      "UPDATE deliveries SET status = 'pending', lease_owner = NULL, next_attempt_at = 0, "
      "requeues = 1 WHERE seq = " +
      std::to_string(c1));
  r.Exec(
      "UPDATE deliveries SET status = 'pending', lease_owner = NULL, next_attempt_at = 0 "
      "WHERE seq = " +
      std::to_string(c2));
  claimed = r.Claim(32);
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST((Seqs(claimed[0]) == std::vector<int64_t>{c1}));
}

// Tenant fairness is kept: the rows coalesced behind a tenant's row do not count against the
// claim's limit, and each tenant still gets its share.
void FairnessKept(bool postgres) {
  Queue q(postgres);
  std::vector<int64_t> burst;
  for (int i = 0; i < 5; ++i) burst.push_back(q.Event("u", i == 0 ? "created" : "patched", "big"));
  int64_t other = q.Event("u2", "created", "big");
  int64_t small = q.Event("v", "created", "small");
  q.FanOut();
  std::vector<ClaimedDelivery> claimed = q.Claim(32, 2);
  BOOST_TEST_REQUIRE(claimed.size() == 2u);
  BOOST_TEST(Seqs(claimed[0]) == burst);
  BOOST_TEST(claimed[1].seq == small);
  BOOST_TEST(q.StatusOf(other) == "pending");
}

BOOST_AUTO_TEST_SUITE(delivery_coalesce)

BOOST_AUTO_TEST_CASE(claims_runs_on_sqlite) { ClaimsRuns(false); }
BOOST_AUTO_TEST_CASE(claims_runs_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  ClaimsRuns(true);
}
BOOST_AUTO_TEST_CASE(run_stops_at_rows_left_behind_on_sqlite) { RunStopsAtRowsLeftBehind(false); }
BOOST_AUTO_TEST_CASE(run_stops_at_rows_left_behind_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  RunStopsAtRowsLeftBehind(true);
}
BOOST_AUTO_TEST_CASE(fairness_kept_on_sqlite) { FairnessKept(false); }
BOOST_AUTO_TEST_CASE(fairness_kept_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  FairnessKept(true);
}

// PostgreSQL: a link refresh holds the pending row it counted on (FOR UPDATE,
// store/link_refresh.h) until it commits; a claim coalescing that row waits for the lock
// rather than skipping the row (which would take the rows after it ahead of it).
BOOST_AUTO_TEST_CASE(claim_waits_for_a_locked_row_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  Queue q(true);
  int64_t a1 = q.Event("a", "created");
  int64_t a2 = q.Event("a", "patched");
  int64_t a3 = q.Event("a", "patched");
  q.FanOut();
  auto other = q.OpenPool();
  std::atomic<bool> locked{false};
  std::thread holder([&] {
    Status st = other->InTransaction([&](soci::session& s) -> Status {
      long long id = 0, seq = a2;
      s << "SELECT id FROM deliveries WHERE target = 'crm' AND seq = :s FOR UPDATE", soci::use(seq),
          soci::into(id);
      locked = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      return OkStatus();
    });
    BOOST_TEST(st.ok());
  });
  while (!locked.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto started = std::chrono::steady_clock::now();
  std::vector<ClaimedDelivery> claimed = q.Claim(32);
  auto waited = std::chrono::steady_clock::now() - started;
  holder.join();
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST((Seqs(claimed[0]) == std::vector<int64_t>{a1, a2, a3}));
  BOOST_TEST(waited >= std::chrono::milliseconds(200));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
