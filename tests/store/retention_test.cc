// Retention: old delivered outbox events (and their deliveries rows) and old audit rows go, in
// batches; nothing a target has not delivered, nothing not yet fanned out, and not the newest
// event of a resource. Runs on SQLite, and on PostgreSQL when SCIMD_TEST_PG_URL names a server.

#include "scim/store/retention.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

const std::string kOld = "2020-01-01T00:00:00.000Z";
const std::string kNew = "2099-01-01T00:00:00.000Z";
const std::string kCutoff = "2024-01-01T00:00:00.000Z";

// A migrated database of its own: a SQLite file, or a PostgreSQL database on SCIMD_TEST_PG_URL.
// The retention tests' rows, written straight into a scratch database with chosen times.
class ScratchDatabase : public testing::ScratchDatabase {
 public:
  explicit ScratchDatabase(bool postgres) : testing::ScratchDatabase(postgres, "retention") {}

  std::vector<long long> Seqs(const std::string& sql) {
    std::vector<long long> out(1000);
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           s << sql, soci::into(out);
                           return OkStatus();
                         }).ok());
    return out;
  }

  void Event(long long seq, const std::string& resource, const std::string& created) {
    Exec(
        "INSERT INTO outbox (seq, tenant, resource_type, resource_id, event, version, payload, "
        "created) VALUES (" +
        std::to_string(seq) + ", 'default', 'User', '" + resource + "', 'patched', 1, '{}', '" +
        created + "')");
  }

  void Delivery(long long seq, const std::string& resource, const std::string& status) {
    Exec(
        "INSERT INTO deliveries (seq, target, tenant, resource_type, resource_id, status, "
        "created, updated) VALUES (" +
        std::to_string(seq) + ", 't1', 'default', 'User', '" + resource + "', '" + status + "', '" +
        kOld + "', '" + kOld + "')");
  }

  void Audit(long long seq, const std::string& time) {
    Exec(
        "INSERT INTO audit_log (seq, tenant, time, actor, action, resource_type, resource_id, "
        "version) VALUES (" +
        std::to_string(seq) + ", 'default', '" + time + "', 'a', 'patch', 'User', 'x', 1)");
  }
};

void PrunesOnlyWhatIsDeliveredOldAndSuperseded(bool postgres) {
  ScratchDatabase scratch(postgres);
  scratch.Exec(
      "INSERT INTO target_cursors (target, type, last_seq, scanned_seq, gaps, updated) "
      "VALUES ('t1', 'webhook', 4, 4, '', '" +
      kOld + "')");
  scratch.Event(1, "A", kOld);  // delivered, superseded: goes
  scratch.Delivery(1, "A", "delivered");
  scratch.Event(2, "A", kOld);  // failed at t1: stays
  scratch.Delivery(2, "A", "failed");
  scratch.Event(3, "A", kOld);  // delivered but the newest of A: stays
  scratch.Delivery(3, "A", "delivered");
  scratch.Event(4, "B", kOld);  // not handled by t1 (no row), fanned out, superseded: goes
  scratch.Event(5, "B", kOld);  // beyond t1's cursor: stays
  scratch.Event(6, "C", kNew);  // recent: stays
  scratch.Event(7, "C", kNew);
  for (long long seq = 1; seq <= 3; ++seq) scratch.Audit(seq, kOld);
  scratch.Audit(4, kNew);

  auto pruned = PruneOnce(*scratch.db, kCutoff, kCutoff, 500);
  BOOST_REQUIRE(pruned.ok());
  BOOST_TEST(pruned->outbox == 2);
  BOOST_TEST(pruned->deliveries == 1);
  BOOST_TEST(pruned->audit == 3);
  BOOST_TEST(!pruned->more);
  BOOST_TEST(scratch.Seqs("SELECT seq FROM outbox ORDER BY seq") ==
                 (std::vector<long long>{2, 3, 5, 6, 7}),
             boost::test_tools::per_element());
  BOOST_TEST(
      scratch.Seqs("SELECT seq FROM deliveries ORDER BY seq") == (std::vector<long long>{2, 3}),
      boost::test_tools::per_element());
  BOOST_TEST(scratch.Seqs("SELECT seq FROM audit_log ORDER BY seq") == (std::vector<long long>{4}),
             boost::test_tools::per_element());
  auto again = PruneOnce(*scratch.db, kCutoff, kCutoff, 500);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->outbox + again->audit == 0);
}

void PrunesInBatches(bool postgres) {
  ScratchDatabase scratch(postgres);
  for (long long seq = 1; seq <= 8; ++seq) scratch.Event(seq, "A", kOld);  // no targets at all
  for (long long seq = 1; seq <= 5; ++seq) scratch.Audit(seq, kOld);
  auto first = PruneOnce(*scratch.db, kCutoff, kCutoff, 3);
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(first->outbox == 3);
  BOOST_TEST(first->audit == 3);
  BOOST_TEST(first->more);
  int rounds = 1;
  while (rounds < 10) {
    auto next = PruneOnce(*scratch.db, kCutoff, kCutoff, 3);
    BOOST_REQUIRE(next.ok());
    ++rounds;
    if (!next->more) break;
  }
  BOOST_TEST(rounds == 3);  // 3 + 3 + 1 outbox events, 3 + 2 audit rows
  BOOST_TEST(scratch.Seqs("SELECT seq FROM outbox") == (std::vector<long long>{8}),
             boost::test_tools::per_element());
  BOOST_TEST(scratch.Seqs("SELECT seq FROM audit_log").empty());
}

void EmptyCutoffKeepsEverything(bool postgres) {
  ScratchDatabase scratch(postgres);
  scratch.Event(1, "A", kOld);
  scratch.Event(2, "A", kOld);
  scratch.Audit(1, kOld);
  auto pruned = PruneOnce(*scratch.db, "", "", 500);
  BOOST_REQUIRE(pruned.ok());
  BOOST_TEST(pruned->outbox + pruned->audit == 0);
  BOOST_TEST(scratch.Seqs("SELECT seq FROM outbox").size() == 2u);
}

BOOST_AUTO_TEST_SUITE(retention)

BOOST_AUTO_TEST_CASE(prunes_only_delivered_old_superseded_on_sqlite) {
  PrunesOnlyWhatIsDeliveredOldAndSuperseded(false);
}
BOOST_AUTO_TEST_CASE(prunes_in_batches_on_sqlite) { PrunesInBatches(false); }
BOOST_AUTO_TEST_CASE(empty_cutoff_keeps_everything_on_sqlite) { EmptyCutoffKeepsEverything(false); }

BOOST_AUTO_TEST_CASE(prunes_only_delivered_old_superseded_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  PrunesOnlyWhatIsDeliveredOldAndSuperseded(true);
}
BOOST_AUTO_TEST_CASE(prunes_in_batches_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  PrunesInBatches(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
