// Target notices (scim/store/target_notices.h, migration 010): set, confirmed (since kept),
// changed (new since), cleared, and shown by SyncStatus. Runs on SQLite, and on PostgreSQL when
// SCIMD_TEST_PG_URL names a server.

#include "scim/store/target_notices.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "scim/store/delivery_status.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

void NoticesLifecycle(bool postgres) {
  testing::ScratchDatabase scratch(postgres, "notices");
  Database& db = *scratch.db;
  auto none = TargetNoticesOf(db, "dolibarr");
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST(none->empty());

  BOOST_TEST_REQUIRE(SaveTargetNotices(db, "dolibarr", {{"department", "no field"}}).ok());
  auto first = TargetNoticesOf(db, "dolibarr");
  BOOST_TEST_REQUIRE(first.ok());
  BOOST_TEST_REQUIRE(first->size() == 1u);
  BOOST_TEST((*first)[0].topic == "department");
  BOOST_TEST((*first)[0].message == "no field");
  const std::string since = (*first)[0].since;

  // The same text again: confirmed, `since` kept.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  BOOST_TEST_REQUIRE(SaveTargetNotices(db, "dolibarr", {{"department", "no field"}}).ok());
  auto confirmed = TargetNoticesOf(db, "dolibarr");
  BOOST_TEST_REQUIRE(confirmed->size() == 1u);
  BOOST_TEST((*confirmed)[0].since == since);
  BOOST_TEST((*confirmed)[0].updated > since);

  // Another target is separate; a new text starts a new `since`.
  BOOST_TEST_REQUIRE(SaveTargetNotices(db, "other", {{"x", "y"}}).ok());
  BOOST_TEST_REQUIRE(SaveTargetNotices(db, "dolibarr", {{"department", "still no field"}}).ok());
  auto changed = TargetNoticesOf(db, "dolibarr");
  BOOST_TEST_REQUIRE(changed->size() == 1u);
  BOOST_TEST((*changed)[0].message == "still no field");
  BOOST_TEST((*changed)[0].since > since);

  auto status = SyncStatus(db, {{"dolibarr", "dolibarr"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST_REQUIRE(status->size() == 1u);
  BOOST_TEST_REQUIRE((*status)[0].notices.size() == 1u);
  BOOST_TEST((*status)[0].notices[0].message == "still no field");

  // nullopt clears; clearing what is not there is fine.
  BOOST_TEST_REQUIRE(
      SaveTargetNotices(db, "dolibarr", {{"department", std::nullopt}, {"nothing", std::nullopt}})
          .ok());
  BOOST_TEST(TargetNoticesOf(db, "dolibarr")->empty());
  BOOST_TEST(TargetNoticesOf(db, "other")->size() == 1u);
}

BOOST_AUTO_TEST_SUITE(target_notices)

BOOST_AUTO_TEST_CASE(lifecycle_on_sqlite) { NoticesLifecycle(false); }
BOOST_AUTO_TEST_CASE(lifecycle_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  NoticesLifecycle(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
