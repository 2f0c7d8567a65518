// Database::InTransaction nested on one thread (what /Bulk does to commit many writes at once):
// inner calls run in savepoints of the outer transaction, an inner failure (an error or a failed
// statement) undoes only its own work, and nothing is visible to other connections before the
// outer commit. On SQLite and on PostgreSQL (when SCIMD_TEST_PG_URL names a server).

#include <boost/test/unit_test.hpp>
#include <stdexcept>

#include "scim/store/database.h"
#include "store/sql_util.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

void Insert(soci::session& s, const std::string& name) {
  s << "INSERT INTO tenants (name, created) VALUES (:n, '2026-12-07T00:00:00.000Z')",
      soci::use(name, "n");
}

long long CountTenants(Database& db, const std::string& prefix) {
  long long count = -1;
  Status read = db.WithSession([&](soci::session& s) -> Status {
    std::string like = prefix + "%";
    soci::row r;
    s << "SELECT COUNT(*) FROM tenants WHERE name LIKE :p", soci::use(like, "p"), soci::into(r);
    count = IntegerAt(r, 0);
    return OkStatus();
  });
  BOOST_TEST_REQUIRE(read.ok());
  return count;
}

void InnerFailuresUndoOnlyThemselves(ScratchDatabase& scratch) {
  Database& db = *scratch.db;
  Status outer = db.InTransaction([&](soci::session& s) -> Status {
    Insert(s, "nest-a");
    Status error = db.InTransaction([&](soci::session& inner) -> Status {
      Insert(inner, "nest-b");
      return Error(ErrorCode::kInvalidValue, "refused");
    });
    BOOST_TEST((!error.ok() && error.error().code == ErrorCode::kInvalidValue));
    // A statement that fails (a duplicate primary key) inside a savepoint: on PostgreSQL this
    // would abort the whole transaction without the savepoint.
    Status duplicate = db.InTransaction([&](soci::session& inner) -> Status {
      Insert(inner, "nest-a");
      return OkStatus();
    });
    BOOST_TEST((!duplicate.ok() && duplicate.error().code == ErrorCode::kUniqueness));
    Status thrown = db.InTransaction([&](soci::session& inner) -> Status {
      Insert(inner, "nest-c");
      throw std::runtime_error("boom");
    });
    BOOST_TEST(!thrown.ok());
    Status kept = db.InTransaction([&](soci::session& inner) -> Status {
      Insert(inner, "nest-d");
      return OkStatus();
    });
    BOOST_TEST(kept.ok());
    // Reads inside see the transaction's own writes.
    BOOST_TEST(CountTenants(db, "nest-") == 2);
    return OkStatus();
  });
  BOOST_TEST_REQUIRE(outer.ok());
  BOOST_TEST(CountTenants(db, "nest-") == 2);  // a and d
}

void NothingIsVisibleBeforeTheOuterCommit(ScratchDatabase& scratch) {
  Database& db = *scratch.db;
  auto other = scratch.OpenPool();  // another process's pool on the same database
  long long seen_inside = -1;
  Status outer = db.InTransaction([&](soci::session&) -> Status {
    Status inner = db.InTransaction([&](soci::session& s) -> Status {
      Insert(s, "later-1");
      return OkStatus();
    });
    BOOST_TEST(inner.ok());
    seen_inside = CountTenants(*other, "later-");
    return OkStatus();
  });
  BOOST_TEST_REQUIRE(outer.ok());
  BOOST_TEST(seen_inside == 0);
  BOOST_TEST(CountTenants(*other, "later-") == 1);
}

void AnOuterFailureUndoesTheInnerSuccesses(ScratchDatabase& scratch) {
  Database& db = *scratch.db;
  Status outer = db.InTransaction([&](soci::session&) -> Status {
    Status inner = db.InTransaction([&](soci::session& s) -> Status {
      Insert(s, "gone-1");
      return OkStatus();
    });
    BOOST_TEST(inner.ok());
    return Error(ErrorCode::kConflict, "changed my mind");
  });
  BOOST_TEST(!outer.ok());
  BOOST_TEST(CountTenants(db, "gone-") == 0);
}

// How long the commit waits, read inside the transaction: SQLite's synchronous (1 NORMAL, 2 FULL)
// or PostgreSQL's synchronous_commit.
std::string CommitWaitSetting(soci::session& s) {
  std::string value;
  if (s.get_backend_name() == "postgresql") {
    s << "SHOW synchronous_commit", soci::into(value);
  } else {
    int level = -1;
    s << "PRAGMA synchronous", soci::into(level);
    value = std::to_string(level);
  }
  return value;
}

// A replayable transaction commits without waiting for the disk, durable ones around it still
// wait, and its rows are committed like any other; nested, it keeps the outer transaction's wait.
void ReplayableCommitsOnlyRelaxThemselves(ScratchDatabase& scratch, bool postgres) {
  auto one = Database::Open(scratch.url(), 1);  // one session: its own default is set below
  BOOST_TEST_REQUIRE(one.ok());
  Database& db = **one;
  if (postgres) {  // the test cluster runs with synchronous_commit off
    BOOST_TEST_REQUIRE(db.WithSession([](soci::session& s) -> Status {
                           s << "SET synchronous_commit = on";
                           return OkStatus();
                         }).ok());
  }
  const std::string relaxed = postgres ? "off" : "1";
  const std::string durable = postgres ? "on" : "2";
  auto wait_in = [&](Database::CommitWait wait) {
    std::string seen;
    Status done = db.InTransaction(
        [&](soci::session& s) -> Status {
          Insert(s, "wait-" + std::to_string(CountTenants(db, "wait-")));
          seen = CommitWaitSetting(s);
          return OkStatus();
        },
        wait);
    BOOST_TEST(done.ok());
    return seen;
  };
  BOOST_TEST(wait_in(Database::CommitWait::kDurable) == durable);
  BOOST_TEST(wait_in(Database::CommitWait::kReplayable) == relaxed);
  BOOST_TEST(wait_in(Database::CommitWait::kDurable) == durable);
  BOOST_TEST(CountTenants(db, "wait-") == 3);
  Status outer = db.InTransaction([&](soci::session&) -> Status {
    std::string inner;
    Status nested = db.InTransaction(
        [&](soci::session& s) -> Status {
          inner = CommitWaitSetting(s);
          return OkStatus();
        },
        Database::CommitWait::kReplayable);
    BOOST_TEST(nested.ok());
    BOOST_TEST(inner == durable);
    return OkStatus();
  });
  BOOST_TEST(outer.ok());
}

void RunAll(bool postgres) {
  {
    ScratchDatabase scratch(postgres, "nested4");
    ReplayableCommitsOnlyRelaxThemselves(scratch, postgres);
  }
  {
    ScratchDatabase scratch(postgres, "nested1");
    InnerFailuresUndoOnlyThemselves(scratch);
  }
  {
    ScratchDatabase scratch(postgres, "nested2");
    NothingIsVisibleBeforeTheOuterCommit(scratch);
  }
  {
    ScratchDatabase scratch(postgres, "nested3");
    AnOuterFailureUndoesTheInnerSuccesses(scratch);
  }
}

BOOST_AUTO_TEST_SUITE(nested_transactions)

BOOST_AUTO_TEST_CASE(nested_transactions_on_sqlite) { RunAll(false); }

BOOST_AUTO_TEST_CASE(nested_transactions_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  RunAll(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
