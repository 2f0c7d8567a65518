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

void RunAll(bool postgres) {
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
