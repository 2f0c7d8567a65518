// ResourceStore::Get reads a User, its groups and its manager's current name in one statement
// (issue 12): the answer must be what the separate queries gave: groups ordered by id with their
// displayName and type "direct", manager.displayName following the manager's renames, no groups
// when not asked for or when the user is in none. On SQLite, and on PostgreSQL when
// SCIMD_TEST_PG_URL names a server.

#include <boost/test/unit_test.hpp>
#include <string>

#include "scim/store/resource_store.h"
#include "store/sql_util.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

const WriteContext kCtx{"default", "tester"};
constexpr const char* kEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

json::Document Parse(const std::string& text) {
  json::Document doc;
  BOOST_TEST_REQUIRE(json::Parse(text, doc).ok(), text);
  return doc;
}

std::string Create(ResourceStore& store, const std::string& type, const std::string& body,
                   const MembershipChange& members = {}) {
  auto created = store.Create(kCtx, type, Parse(body), members, std::nullopt);
  BOOST_TEST_REQUIRE(created.ok());
  return (*created)["id"].GetString();
}

void RunAll(bool postgres) {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ScratchDatabase scratch(postgres, "read_path");
  ResourceStore store(scratch.db, *registry);
  std::string boss = Create(store, "User",
                            "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                            "\"userName\":\"boss\",\"displayName\":\"The Boss\"}");
  std::string user = Create(store, "User",
                            "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" +
                                std::string(kEnterprise) + "\"],\"userName\":\"worker\",\"" +
                                kEnterprise + "\":{\"manager\":{\"value\":\"" + boss + "\"}}}");
  std::string loner = Create(store, "User",
                             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                             "\"userName\":\"loner\"}");
  MembershipChange members;
  members.add.push_back({user, ""});
  std::string g1 = Create(store, "Group",
                          "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                          "\"displayName\":\"Zeta \\\"quoted\\\" ü\"}",
                          members);
  std::string g2 = Create(store, "Group",
                          "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                          "\"displayName\":\"Alpha\"}",
                          members);

  auto got = store.Get("default", "User", user, {});
  BOOST_TEST_REQUIRE(got.ok(), (got.ok() ? "" : got.error().detail));
  const json::Value& groups = (*got)["groups"];
  BOOST_TEST_REQUIRE(groups.IsArray());
  BOOST_TEST_REQUIRE(groups.Size() == 2u);
  std::string first = std::min(g1, g2), second = std::max(g1, g2);
  BOOST_TEST(std::string(groups[0]["value"].GetString()) == first);
  BOOST_TEST(std::string(groups[1]["value"].GetString()) == second);
  for (const auto& g : groups.GetArray()) {
    std::string expected = g["value"].GetString() == g1 ? "Zeta \"quoted\" ü" : "Alpha";
    BOOST_TEST(std::string(g["display"].GetString()) == expected);
    BOOST_TEST(std::string(g["type"].GetString()) == "direct");
  }
  BOOST_TEST(std::string((*got)[kEnterprise]["manager"]["displayName"].GetString()) == "The Boss");
  BOOST_TEST(std::string((*got)[kEnterprise]["manager"]["value"].GetString()) == boss);

  // The manager renamed: the name shown follows.
  auto renamed =
      store.Modify(kCtx, "User", boss, std::nullopt, events::ChangeKind::kPatched,
                   [](json::Document& r, MembershipChange&, std::optional<std::string>&) -> Status {
                     r["displayName"].SetString("New Name", r.GetAllocator());
                     return OkStatus();
                   },
                   {});
  BOOST_TEST_REQUIRE(renamed.ok());
  got = store.Get("default", "User", user, {});
  BOOST_TEST_REQUIRE(got.ok());
  BOOST_TEST(std::string((*got)[kEnterprise]["manager"]["displayName"].GetString()) == "New Name");

  // groups not asked for; a user in no group; a Group read by the same path.
  ReadOptions no_groups;
  no_groups.include_groups = false;
  got = store.Get("default", "User", user, no_groups);
  BOOST_TEST_REQUIRE(got.ok());
  BOOST_TEST(!got->HasMember("groups"));
  BOOST_TEST(std::string((*got)[kEnterprise]["manager"]["displayName"].GetString()) == "New Name");
  got = store.Get("default", "User", loner, {});
  BOOST_TEST_REQUIRE(got.ok());
  BOOST_TEST(!got->HasMember("groups"));
  auto group = store.Get("default", "Group", g2, {});
  BOOST_TEST_REQUIRE(group.ok());
  BOOST_TEST((*group)["members"].Size() == 1u);
  BOOST_TEST((store.Get("default", "User", "no-such-id", {}).error().code == ErrorCode::kNotFound));
  // The manager gone: no displayName.
  BOOST_TEST_REQUIRE(store.Delete(kCtx, "User", boss, std::nullopt).ok());
  got = store.Get("default", "User", user, {});
  BOOST_TEST_REQUIRE(got.ok());
  BOOST_TEST(!(*got)[kEnterprise]["manager"].HasMember("displayName"));
}

// PostgreSQL keeps the read as a prepared statement per connection: it survives the statement
// being dropped on the server (a reconnected session has none: EXECUTE fails with 26000 and the
// store prepares it again), and a read inside a transaction takes the one-time path.
void PreparedStatementsRecover() {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ScratchDatabase scratch(true, "read_prepared");
  auto one = store::Database::Open(scratch.url(), 1);  // one session: the DEALLOCATE hits it
  BOOST_TEST_REQUIRE(one.ok());
  ResourceStore store(*one, *registry);
  std::string id = Create(store, "User",
                          "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                          "\"userName\":\"prepared\"}");
  auto prepared_count = [&] {
    long long n = -1;
    BOOST_TEST_REQUIRE((*one)
                           ->WithSession([&](soci::session& s) -> Status {
                             s << "SELECT COUNT(*) FROM pg_prepared_statements WHERE name LIKE "
                                  "'scim_read_%'",
                                 soci::into(n);
                             return OkStatus();
                           })
                           .ok());
    return n;
  };
  for (int i = 0; i < 7; ++i) BOOST_TEST_REQUIRE(store.Get("default", "User", id, {}).ok());
  BOOST_TEST(prepared_count() == 1);
  BOOST_TEST_REQUIRE((*one)
                         ->WithSession([](soci::session& s) -> Status {
                           s << "DEALLOCATE ALL";
                           return OkStatus();
                         })
                         .ok());
  BOOST_TEST(prepared_count() == 0);
  auto again = store.Get("default", "User", id, {});
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(std::string((*again)["userName"].GetString()) == "prepared");
  BOOST_TEST(prepared_count() == 1);
  Status in_tx = store.InOneTransaction([&]() -> Status {
    auto got = store.Get("default", "User", id, {});
    BOOST_TEST(got.ok());
    return OkStatus();
  });
  BOOST_TEST(in_tx.ok());
}

BOOST_AUTO_TEST_SUITE(read_path)

BOOST_AUTO_TEST_CASE(read_path_on_sqlite) { RunAll(false); }

BOOST_AUTO_TEST_CASE(read_path_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  RunAll(true);
  PreparedStatementsRecover();
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
