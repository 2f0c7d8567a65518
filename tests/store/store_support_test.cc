#include <boost/test/unit_test.hpp>

#include "scim/schema/registry.h"
#include "scim/store/resource_store.h"
#include "store/bound_sql.h"
#include "store/connection_url.h"
#include "store/resource_rows.h"

namespace scim::store {
namespace {

BOOST_AUTO_TEST_SUITE(connection_url)

BOOST_AUTO_TEST_CASE(sqlite_forms) {
  auto a = ParseConnectionUrl("sqlite:scimd.db");
  BOOST_REQUIRE(a.ok());
  BOOST_TEST((a->dialect == Dialect::kSqlite));
  BOOST_TEST(a->connect_string.find("db=scimd.db") == 0);
  auto b = ParseConnectionUrl("sqlite:///tmp/x.db");
  BOOST_REQUIRE(b.ok());
  BOOST_TEST(b->connect_string.find("db=/tmp/x.db") == 0);
}

BOOST_AUTO_TEST_CASE(postgres_with_password_is_redacted) {
  auto url = ParseConnectionUrl("postgresql://scim:p%40ss@127.0.0.1:5433/scimdb");
  BOOST_REQUIRE(url.ok());
  BOOST_TEST((url->dialect == Dialect::kPostgres));
  BOOST_TEST(url->connect_string.find("port='5433'") != std::string::npos);
  BOOST_TEST(url->connect_string.find("dbname='scimdb'") != std::string::npos);
  BOOST_TEST(url->connect_string.find("password='p@ss'") != std::string::npos);
  BOOST_TEST(url->redacted.find("p@ss") == std::string::npos);
  BOOST_TEST(url->redacted.find("p%40ss") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(rejects_unknown_and_incomplete) {
  BOOST_TEST(!ParseConnectionUrl("mysql://x@y/z").ok());
  BOOST_TEST(!ParseConnectionUrl("postgresql://host-only").ok());
  BOOST_TEST(!ParseConnectionUrl("sqlite:").ok());
  BOOST_TEST((ParseConnectionUrl("nope").error().code == ErrorCode::kInvalidValue));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bound_sql)

BOOST_AUTO_TEST_CASE(renames_every_occurrence_in_order) {
  BoundSql sql("a = :x AND b = :y AND c = :x", {{"x", "1"}, {"y", "2"}});
  BOOST_REQUIRE(sql.ok());
  BOOST_TEST(sql.sql() == "a = :b0 AND b = :b1 AND c = :b2");
  BOOST_TEST(sql.ordered_values() == (std::vector<std::string>{"1", "2", "1"}));
}

BOOST_AUTO_TEST_CASE(ignores_literals_and_casts) {
  BoundSql sql("x LIKE :p ESCAPE '\\' AND y = 'a:b' AND z::text = :q", {{"p", "%"}, {"q", "v"}});
  BOOST_REQUIRE(sql.ok());
  BOOST_TEST(sql.sql() == "x LIKE :b0 ESCAPE '\\' AND y = 'a:b' AND z::text = :b1");
}

BOOST_AUTO_TEST_CASE(reports_missing_parameter) {
  BoundSql sql("a = :known AND b = :unknown", {{"known", "1"}});
  BOOST_TEST(!sql.ok());
  BOOST_TEST(sql.missing() == "unknown");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(versions)

BOOST_AUTO_TEST_CASE(round_trip_and_forms) {
  BOOST_TEST(FormatVersion(7) == "W/\"7\"");
  BOOST_TEST(ParseVersion("W/\"7\"").value() == 7);
  BOOST_TEST(ParseVersion("\"12\"").value() == 12);
  BOOST_TEST(ParseVersion("3").value() == 3);
  BOOST_TEST(!ParseVersion("W/\"abc\"").has_value());
  BOOST_TEST(!ParseVersion("").has_value());
  BOOST_TEST(!ParseVersion("99999999999999999999").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(resource_rows)

BOOST_AUTO_TEST_CASE(extracts_leaf_values_with_paths_and_ordinals) {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_REQUIRE(registry.ok());
  const schema::ResourceType* user = (*registry)->FindResourceType("User");
  BOOST_REQUIRE(user != nullptr);
  json::Document doc;
  BOOST_REQUIRE(json::Parse(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
      "userName":"BJensen","active":true,"name":{"familyName":"Jensen"},
      "emails":[{"value":"A@x.com","type":"work"},{"value":"b@y.com","primary":true}],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701"}})",
                            doc)
                    .ok());
  auto rows = ExtractAttrValues(**registry, *user, doc);
  auto find = [&](const std::string& path, int ord) -> const AttrValueRow* {
    for (const auto& r : rows) {
      if (r.path == path && r.ord == ord) return &r;
    }
    return nullptr;
  };
  BOOST_TEST(find("username", 0) == nullptr);  // has its own column
  BOOST_REQUIRE(find("name.familyname", 0) != nullptr);
  BOOST_TEST(find("name.familyname", 0)->value_lc == "jensen");
  BOOST_REQUIRE(find("emails.value", 1) != nullptr);
  BOOST_TEST(find("emails.value", 0)->value == "A@x.com");
  BOOST_TEST(find("emails.value", 0)->value_lc == "a@x.com");
  BOOST_REQUIRE(find("emails.primary", 1) != nullptr);
  BOOST_TEST(find("emails.primary", 1)->value == "true");
  BOOST_TEST(find("emails.primary", 0) == nullptr);
  const AttrValueRow* employee =
      find("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber", 0);
  BOOST_REQUIRE(employee != nullptr);
  BOOST_TEST(employee->value == "701");
}

BOOST_AUTO_TEST_CASE(columns_and_stored_data) {
  json::Document doc;
  BOOST_REQUIRE(json::Parse(R"({"id":"x","userName":"u","externalId":"E","active":false,
      "displayName":"D","meta":{"version":"W/\"1\""},"password":"p","groups":[]})",
                            doc)
                    .ok());
  IndexedColumns c = ExtractColumns(doc);
  BOOST_TEST(c.user_name.value() == "u");
  BOOST_TEST(c.external_id.value() == "E");
  BOOST_TEST(c.display_name.value() == "D");
  BOOST_TEST(c.active.value() == 0);
  std::string stored = StoredData(doc);
  for (const char* gone : {"\"id\"", "meta", "password", "groups"}) {
    BOOST_TEST(stored.find(gone) == std::string::npos, gone);
  }
  BOOST_TEST(stored.find("\"userName\":\"u\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
