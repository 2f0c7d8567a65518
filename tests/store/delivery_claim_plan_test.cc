// The plans of the claim and due queries (store/delivery_sql.h, ClaimSql) at a backlog: they
// must walk the partial index deliveries_pending in seq order and stop after their rows, never
// sort the due rows (issue 11: 1.87 s per claim at a 97,000-row SQLite backlog). Checked on a
// table of 100,000 delivered rows followed by 100,000 pending ones, without statistics and after
// ANALYZE. The claim's duration is printed (BOOST_TEST_MESSAGE, --log_level=message), never
// asserted. Runs on SQLite, and on PostgreSQL when SCIMD_TEST_PG_URL names a server.

#include <soci/soci.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>

#include "scim/store/delivery_store.h"
#include "store/delivery_sql.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

constexpr int kRows = 100000;  // delivered, then as many pending

class Backlog : public testing::ScratchDatabase {
 public:
  explicit Backlog(bool postgres)
      : testing::ScratchDatabase(postgres, "claim_plan"), postgres_(postgres) {
    // Rows 1..kRows delivered, kRows+1..2*kRows pending and due; every row its own resource.
    const std::string n = std::to_string(2 * kRows), half = std::to_string(kRows);
    const std::string numbers =
        postgres ? "SELECT i FROM generate_series(1, " + n + ") AS g(i)"
                 : "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < " + n +
                       ") SELECT i FROM g";
    Exec(
        "INSERT INTO outbox (seq, tenant, resource_type, resource_id, event, version, payload, "
        "created) SELECT i, 't1', 'User', 'u' || i, 'created', 1, "
        "'{\"resource\":{}}', '2026-01-01T00:00:00.000Z' FROM (" +
        numbers + ") AS x");
    Exec(
        "INSERT INTO deliveries (seq, target, tenant, resource_type, resource_id, status, "
        "next_attempt_at, created, updated) SELECT i, 'crm', 't1', 'User', 'u' || i, "
        "CASE WHEN i <= " +
        half + " THEN 'delivered' ELSE 'pending' END, CASE WHEN i <= " + half +
        " THEN NULL ELSE 1000 END, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' "
        "FROM (" +
        numbers + ") AS x");
  }

  // The plan of the claim query for target 'crm' at `now`, one line per plan row.
  std::string Plan(bool locking) {
    std::string plan;
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           std::string target = "crm";
                           long long now = 5000, n = 8;
                           const std::string sql =
                               delivery_sql::ClaimSql(postgres_, locking && postgres_);
                           soci::rowset<soci::row> rows =
                               (s.prepare << (postgres_ ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql,
                                soci::use(target), soci::use(now), soci::use(n));
                           for (const soci::row& row : rows) {
                             plan += row.get<std::string>(postgres_ ? 0 : 3) + "\n";
                           }
                           return OkStatus();
                         }).ok());
    BOOST_TEST_MESSAGE((postgres_ ? "PostgreSQL" : "SQLite") << " claim plan:\n" << plan);
    return plan;
  }

  void CheckPlans() {
    for (bool locking : {false, true}) {
      const std::string plan = Plan(locking);
      BOOST_TEST(plan.find("deliveries_pending") != std::string::npos, plan);
      BOOST_TEST(plan.find("deliveries_due") == std::string::npos, plan);
      if (postgres_) {
        BOOST_TEST(plan.find("Sort") == std::string::npos, plan);
        BOOST_TEST(plan.find("Seq Scan") == std::string::npos, plan);
      } else {
        BOOST_TEST(plan.find("TEMP B-TREE") == std::string::npos, plan);
      }
      if (!postgres_) break;  // one query text on SQLite
    }
  }

  bool postgres_;
};

// Claims 8 of the backlog through DeliveryStore (the rows come out oldest first) and HasDue;
// prints the time taken.
void ClaimFromBacklog(Backlog& b, const std::string& when, int64_t first_seq) {
  DeliveryStore store(*b.db);
  auto started = std::chrono::steady_clock::now();
  auto due = store.HasDue("crm");
  auto has_due_done = std::chrono::steady_clock::now();
  auto claimed = store.Claim("crm", "owner-1", 8, 60000);
  auto done = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(due.ok());
  BOOST_TEST(*due);
  BOOST_TEST_REQUIRE(claimed.ok());
  BOOST_TEST_REQUIRE(claimed->size() == 8u);
  for (size_t i = 0; i < claimed->size(); ++i) {
    BOOST_TEST((*claimed)[i].event.seq == first_seq + static_cast<int64_t>(i));
  }
  using ms = std::chrono::duration<double, std::milli>;
  BOOST_TEST_MESSAGE((b.postgres_ ? "PostgreSQL" : "SQLite")
                     << " " << when << ": HasDue " << ms(has_due_done - started).count()
                     << " ms, Claim(8) " << ms(done - has_due_done).count() << " ms at a " << kRows
                     << "-row backlog behind " << kRows << " delivered rows");
}

void ClaimWalksPendingIndex(bool postgres) {
  Backlog b(postgres);
  b.CheckPlans();  // no statistics (PostgreSQL: never analyzed; SQLite: no sqlite_stat1)
  ClaimFromBacklog(b, "without statistics", kRows + 1);
  b.Exec("ANALYZE");
  b.CheckPlans();
  ClaimFromBacklog(b, "after ANALYZE", kRows + 9);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery_claim_plan)

BOOST_AUTO_TEST_CASE(claim_walks_pending_index_on_sqlite) { ClaimWalksPendingIndex(false); }
BOOST_AUTO_TEST_CASE(claim_walks_pending_index_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  ClaimWalksPendingIndex(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::store
