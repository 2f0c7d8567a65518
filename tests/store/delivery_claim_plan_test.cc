// The plans of the claim and due queries (store/delivery_sql.h, ClaimSql) at a backlog: they
// must walk the partial index deliveries_pending in seq order and stop after their rows, never
// sort the due rows (issue 11: 1.87 s per claim at a 97,000-row SQLite backlog). Checked on a
// table of 100,000 delivered rows followed by 100,000 pending ones, without statistics and after
// ANALYZE. The claim's duration is printed (BOOST_TEST_MESSAGE, --log_level=message), never
// asserted. Runs on SQLite, and on PostgreSQL when SCIMD_TEST_PG_URL names a server.

#include <soci/soci.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

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

  // The plans of one tenant's share of a fair claim and of the loose scan for the tenants.
  std::pair<std::string, std::string> TenantPlans() {
    std::string share, tenants;
    BOOST_TEST_REQUIRE(
        db->WithSession([&](soci::session& s) -> Status {
            std::string target = "crm", tenant = "t1", after;
            long long now = 5000, n = 8, cap = 64;
            const char* explain = postgres_ ? "EXPLAIN " : "EXPLAIN QUERY PLAN ";
            const int column = postgres_ ? 0 : 3;
            soci::rowset<soci::row> rows =
                (s.prepare << explain + delivery_sql::ClaimSql(postgres_, postgres_, true),
                 soci::use(target), soci::use(tenant), soci::use(now), soci::use(n));
            for (const soci::row& row : rows) share += row.get<std::string>(column) + "\n";
            soci::rowset<soci::row> scan =
                (s.prepare << explain + std::string(delivery_sql::kPendingTenantsSql),
                 soci::use(target), soci::use(after), soci::use(target), soci::use(cap));
            for (const soci::row& row : scan) tenants += row.get<std::string>(column) + "\n";
            return OkStatus();
          }).ok());
    BOOST_TEST_MESSAGE("tenant share plan:\n" << share << "pending tenants plan:\n" << tenants);
    return {share, tenants};
  }

  // PostgreSQL: the delivery engine runs these statements prepared once per connection
  // (store/cached_sql.h), where PostgreSQL may switch to a generic plan after five executions:
  // the generic plans must walk the same indexes, without a sort or a scan of the table. (The
  // lock of a claim's runs, kLockRunSql, is planned per call: its generic plan, before ANALYZE,
  // intersected the ids with every pending row of deliveries_pending.)
  void CheckGenericPlans() {
    struct Statement {
      const char* name;
      const char* types;
      std::string sql;
      const char* args;
      const char* index;  // the plan must use it
    };
    const std::vector<Statement> statements = {
        {"g_claim", "(text, bigint, bigint)", delivery_sql::ClaimSql(true, true),
         "('crm', 5000, 8)", "deliveries_pending"},
        {"g_share", "(text, text, bigint, bigint)", delivery_sql::ClaimSql(true, true, true),
         "('crm', 't1', 5000, 8)", "deliveries_"},
        {"g_tenants", "(text, text, text, bigint)", delivery_sql::kPendingTenantsSql,
         "('crm', '', 'crm', 64)", "deliveries_tenant_pending"},
        {"g_runs", "(bigint[], bigint)", delivery_sql::kCoalesceRunsPgSql,
         "('{150000,150001}', 31)", "deliveries_resource"},
        {"g_waiting", "(text, text, text)",
         std::string(delivery_sql::kWaitingRowSql) + " FOR UPDATE", "('crm', 't1', 'u150000')",
         "deliveries_resource"},
        {"g_expired", "(text, bigint)", delivery_sql::kAnyExpiredSql, "('crm', 5000)",
         "deliveries_in_flight"},
        {"g_outcomes", "(bigint[], text[], integer[], bigint[], text[], smallint[], text, text)",
         delivery_sql::kOutcomesPgSql,
         "('{150000,150001}', '{delivered,pending}', '{1,1}', '{NULL,9000}', '{NULL,x}', '{0,0}', "
         "'now', 'owner-1')",
         "deliveries_pkey"},
        {"g_hold_later", "(bigint, text, text, text, bigint, bigint)", delivery_sql::kHoldLaterSql,
         "(9000, 'crm', 't1', 'u150000', 150000, 9000)", "deliveries_resource"},

    };
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           s << "SET plan_cache_mode = force_generic_plan";
                           for (const Statement& st : statements) {
                             s << std::string("PREPARE ") + st.name + st.types + " AS " + st.sql;
                             std::string plan;
                             soci::rowset<std::string> rows =
                                 s.prepare << std::string("EXPLAIN EXECUTE ") + st.name + st.args;
                             for (const std::string& line : rows) plan += line + "\n";
                             s << std::string("DEALLOCATE ") + st.name;
                             BOOST_TEST_MESSAGE("generic plan of " << st.name << ":\n" << plan);
                             BOOST_TEST(plan.find(st.index) != std::string::npos, plan);
                             BOOST_TEST(plan.find("Seq Scan") == std::string::npos, plan);
                             BOOST_TEST(plan.find("deliveries_due") == std::string::npos, plan);
                             if (std::string(st.name) != "g_runs") {
                               BOOST_TEST(plan.find("Sort") == std::string::npos, plan);
                             }
                           }
                           s << "RESET plan_cache_mode";
                           return OkStatus();
                         }).ok());
  }

  void CheckPlans() {
    if (postgres_) CheckGenericPlans();
    auto [share, tenants] = TenantPlans();
    if (postgres_) {
      // Either pending index serves one tenant in seq order (with one tenant in the table they
      // cost the same); no sort, no scan of the table.
      BOOST_TEST(share.find("Sort") == std::string::npos, share);
      BOOST_TEST(share.find("Seq Scan") == std::string::npos, share);
      BOOST_TEST(share.find("deliveries_due") == std::string::npos, share);
      BOOST_TEST(tenants.find("deliveries_tenant_pending") != std::string::npos, tenants);
      BOOST_TEST(tenants.find("Seq Scan") == std::string::npos, tenants);
    } else {
      BOOST_TEST(share.find("deliveries_tenant_pending") != std::string::npos, share);
      BOOST_TEST(share.find("TEMP B-TREE") == std::string::npos, share);
      BOOST_TEST(tenants.find("deliveries_tenant_pending") != std::string::npos, tenants);
      BOOST_TEST(tenants.find("SCAN deliveries") == std::string::npos, tenants);
    }
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
  // A second claim, on warm caches and statements.
  auto again_started = std::chrono::steady_clock::now();
  auto again = store.Claim("crm", "owner-1", 8, 60000);
  auto again_done = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST_REQUIRE(again->size() == 8u);
  BOOST_TEST(again->front().event.seq == first_seq + 8);
  BOOST_TEST_MESSAGE((b.postgres_ ? "PostgreSQL" : "SQLite")
                     << " " << when << ": HasDue " << ms(has_due_done - started).count()
                     << " ms, Claim(8) " << ms(done - has_due_done).count()
                     << " ms, the next Claim(8) " << ms(again_done - again_started).count()
                     << " ms at a " << kRows << "-row backlog behind " << kRows
                     << " delivered rows");
}

void ClaimWalksPendingIndex(bool postgres) {
  Backlog b(postgres);
  b.CheckPlans();  // no statistics (PostgreSQL: never analyzed; SQLite: no sqlite_stat1)
  ClaimFromBacklog(b, "without statistics", kRows + 1);
  b.Exec("ANALYZE");
  b.CheckPlans();
  ClaimFromBacklog(b, "after ANALYZE", kRows + 17);
}

// Pending rows for target 'crm' straight into the tables: `count` rows of `tenant`, resource
// ids prefix0..prefixN, from seq `first` on; returns the next free seq.
int64_t Queue(testing::ScratchDatabase& t, const std::string& tenant, const std::string& prefix,
              int64_t first, int count) {
  for (int i = 0; i < count; ++i) {
    const std::string seq = std::to_string(first + i), rid = prefix + std::to_string(i);
    t.Exec(
        "INSERT INTO outbox (seq, tenant, resource_type, resource_id, event, version, payload, "
        "created) VALUES (" +
        seq + ", '" + tenant + "', 'User', '" + rid +
        "', 'created', 1, '{\"resource\":{}}', '2026-01-01T00:00:00.000Z')");
    t.Exec(
        "INSERT INTO deliveries (seq, target, tenant, resource_type, resource_id, status, "
        "next_attempt_at, created, updated) VALUES (" +
        seq + ", 'crm', '" + tenant + "', 'User', '" + rid +
        "', 'pending', 1000, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')");
  }
  return first + count;
}

// Tenant A's 1,000 rows (its first resource changed twice) queued before tenant B's 3: B's rows
// are in the first claim of 10; every claim keeps each resource in seq order with one row of it
// at a time; everything is claimed in the end. 12 tenants of one row each and claims of 8: the
// second claim takes the 4 the first left.
void TenantsShareClaims(bool postgres) {
  testing::ScratchDatabase t(postgres, "claim_fair");
  DeliveryStore store(*t.db);
  int64_t next = Queue(t, "a", "a", 1, 1000);
  next = Queue(t, "a", "a", next, 1);  // a0 again
  const int64_t b_first = next;
  next = Queue(t, "b", "b", next, 3);
  auto first = store.Claim("crm", "owner-1", 10, 60000);
  BOOST_TEST_REQUIRE(first.ok());
  BOOST_TEST_REQUIRE(first->size() == 10u);
  int from_b = 0;
  for (const ClaimedDelivery& c : *first) from_b += c.event.tenant == "b" ? 1 : 0;
  BOOST_TEST(from_b == 3);
  BOOST_TEST((*first)[0].event.seq == 1);  // A's oldest rows, in seq order
  BOOST_TEST((*first)[6].event.seq == 7);
  BOOST_TEST((*first)[7].event.seq == b_first);

  std::map<std::pair<std::string, std::string>, int64_t> last_of;  // resource -> last seq
  std::vector<ClaimedDelivery> claim = *first;
  size_t total = 0;
  for (int round = 0; !claim.empty() && round < 200; ++round) {
    std::set<std::pair<std::string, std::string>> in_claim;
    std::string ids;
    for (const ClaimedDelivery& c : claim) {
      auto key = std::make_pair(c.event.tenant, c.event.resource_id);
      BOOST_TEST(in_claim.insert(key).second);  // one row per resource in flight
      BOOST_TEST(c.event.seq > last_of[key]);   // per-resource order
      last_of[key] = c.event.seq;
      ids += (ids.empty() ? "" : ",") + std::to_string(c.id);
    }
    total += claim.size();
    t.Exec("UPDATE deliveries SET status = 'delivered', next_attempt_at = NULL WHERE id IN (" +
           ids + ")");
    auto again = store.Claim("crm", "owner-1", 10, 60000);
    BOOST_TEST_REQUIRE(again.ok());
    claim = *again;
  }
  BOOST_TEST(total == 1004u);

  for (int i = 0; i < 12; ++i) next = Queue(t, "t" + std::to_string(10 + i), "r", next, 1);
  std::set<std::string> tenants;
  for (int round = 0; round < 2; ++round) {
    auto claimed = store.Claim("crm", "owner-1", 8, 60000);
    BOOST_TEST_REQUIRE(claimed.ok());
    BOOST_TEST(claimed->size() == (round == 0 ? 8u : 4u));
    for (const ClaimedDelivery& c : *claimed) BOOST_TEST(tenants.insert(c.event.tenant).second);
  }
  BOOST_TEST(tenants.size() == 12u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery_claim_plan)

BOOST_AUTO_TEST_CASE(tenants_share_claims_on_sqlite) { TenantsShareClaims(false); }
BOOST_AUTO_TEST_CASE(tenants_share_claims_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  TenantsShareClaims(true);
}

BOOST_AUTO_TEST_CASE(claim_walks_pending_index_on_sqlite) { ClaimWalksPendingIndex(false); }
BOOST_AUTO_TEST_CASE(claim_walks_pending_index_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  ClaimWalksPendingIndex(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::store
