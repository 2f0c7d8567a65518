// Migrations on PostgreSQL where scimd's role may not create extensions: migration 005 makes the
// pg_trgm indexes only where it can, and scimd still migrates and answers co filters without
// them. Runs when SCIMD_TEST_PG_URL names a server whose user may create roles and databases.

#include <soci/soci.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "scim/filter/bind.h"
#include "scim/store/resource_store.h"
#include "support/pg_configured.h"

namespace scim::store {
namespace {

// Runs statements on SCIMD_TEST_PG_URL's database (`database` replaces its name when given).
void AsAdmin(const std::vector<std::string>& statements, const std::string& database = "") {
  std::string url = std::getenv("SCIMD_TEST_PG_URL");
  if (!database.empty()) url = url.substr(0, url.rfind('/') + 1) + database;
  auto admin = Database::Open(url, 1);
  BOOST_TEST_REQUIRE(admin.ok());
  for (const std::string& sql : statements) {
    Status run = (*admin)->WithSession([&](soci::session& s) -> Status {
      s << sql;
      return OkStatus();
    });
    BOOST_TEST_REQUIRE(run.ok(), sql << ": " << (run.ok() ? "" : run.error().detail));
  }
}

long long CountOf(Database& db, const std::string& sql) {
  long long n = -1;
  BOOST_TEST_REQUIRE(db.WithSession([&](soci::session& s) -> Status {
                         s << sql, soci::into(n);
                         return OkStatus();
                       }).ok());
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(migrations)

BOOST_AUTO_TEST_CASE(without_create_privilege_pg_trgm_is_skipped_and_co_still_works,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  std::string suffix = std::to_string(::getpid());
  std::string role = "scimd_limited_" + suffix, database = "scimd_limited_db_" + suffix;
  AsAdmin({"DROP DATABASE IF EXISTS " + database, "DROP ROLE IF EXISTS " + role,
           "CREATE ROLE " + role + " LOGIN", "CREATE DATABASE " + database});
  AsAdmin({"REVOKE CREATE ON DATABASE " + database + " FROM PUBLIC",
           "GRANT ALL ON SCHEMA public TO " + role},
          database);
  std::string admin_url = std::getenv("SCIMD_TEST_PG_URL");
  std::string host = admin_url.substr(admin_url.find('@') + 1);
  host = host.substr(0, host.rfind('/'));
  {
    auto db = Database::Open("postgresql://" + role + "@" + host + "/" + database, 2);
    BOOST_TEST_REQUIRE(db.ok());
    Status migrated = (*db)->Migrate();
    BOOST_TEST_REQUIRE(migrated.ok(), (migrated.ok() ? "" : migrated.error().detail));
    BOOST_TEST(CountOf(**db, "SELECT COUNT(*) FROM pg_extension WHERE extname = 'pg_trgm'") == 0);
    BOOST_TEST(CountOf(**db, "SELECT COUNT(*) FROM pg_indexes WHERE indexname LIKE '%_contains'") ==
               0);
    BOOST_TEST(CountOf(**db, "SELECT MAX(version) FROM schema_migrations") >= 5);

    auto registry = schema::Registry::LoadEmbedded();
    BOOST_TEST_REQUIRE(registry.ok());
    ResourceStore store(*db, *registry);
    json::Document user;
    BOOST_TEST_REQUIRE(json::Parse(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName":"limited","emails":[{"value":"Jane.Roe@Example.com"}]})",
                                   user)
                           .ok());
    BOOST_TEST_REQUIRE(
        store.Create(WriteContext{"default", "tester"}, "User", std::move(user), {}, std::nullopt)
            .ok());
    const schema::ResourceType& type = *(*registry)->FindResourceType("User");
    for (const char* text : {"emails.value co \"roe@ex\"", "emails.value ew \"example.COM\""}) {
      ListQuery query;
      query.filter = *filter::ParseAndBind(text, **registry, type);
      auto page = store.List("default", "User", query);
      BOOST_TEST_REQUIRE(page.ok());
      BOOST_TEST(page->total_results == 1, text);
    }
  }
  AsAdmin({"DROP DATABASE IF EXISTS " + database + " WITH (FORCE)", "DROP ROLE " + role});
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::store
