// Migration 015 (issue 11) made three PostgreSQL indexes partial to cut the index entries of
// every write: attr_values_num (WHERE num IS NOT NULL) and the trigram indexes of userName and
// displayName (WHERE ... IS NOT NULL). The statements that read them must still be able to use
// them: the compiled filters (numeric comparisons, co/sw/ew) and the indexed numeric sort
// (listing.cc's IndexedSortPager: `s.path = ... AND s.num IS NOT NULL ORDER BY s.num`). Checked
// with EXPLAIN over 60,000 resources after ANALYZE; the plans are printed with
// --log_level=message. PostgreSQL only (SQLite has no trigram indexes and keeps attr_values_num
// whole): runs when SCIMD_TEST_PG_URL names a server.

#include <soci/soci.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <string>
#include <utility>
#include <vector>

#include "store/filter_cases.h"
#include "store/filter_sql.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::TypeOf;
using testing::WidgetRegistry;

class Indexed : public testing::ScratchDatabase {
 public:
  Indexed() : testing::ScratchDatabase(true, "write_index_plan") {
    // 20,000 Users with a userName and no displayName (what a HR push creates), then 20,000
    // Groups with a displayName and no userName, then 20,000 Widgets with a number in 1 of 10
    // attr_values rows. (With fewer Users PostgreSQL reads them all through resources_user_name
    // for `co` instead, with the trigram index whole or partial.)
    const std::string kind =
        "CASE WHEN i <= 20000 THEN 'User' WHEN i <= 40000 THEN 'Group' ELSE "
        "'Widget' END";
    Exec(
        "INSERT INTO resources (tenant, id, resource_type, user_name, user_name_lc, "
        "display_name, display_name_lc, created, last_modified, version, data) SELECT 't1', "
        "'id' || i, " +
        kind +
        ", CASE WHEN i <= 20000 THEN 'User' || i || '@hr.example.com' END, CASE WHEN i <= 20000 "
        "THEN 'user' || i || '@hr.example.com' END, CASE WHEN i > 20000 THEN 'Team ' || i END, "
        "CASE WHEN i > 20000 THEN 'team ' || i END, '2026-01-01T00:00:00.000Z', "
        "'2026-01-01T00:00:00.000Z', 1, '{}' FROM generate_series(1, 60000) AS g(i)");
    Exec(
        "INSERT INTO attr_values (tenant, resource_type, resource_id, path, ord, value, "
        "value_lc, num) SELECT 't1', 'Widget', 'id' || i, CASE WHEN i % 10 = 0 THEN 'count' "
        "ELSE 'label' END, 0, 'v' || i, 'v' || i, CASE WHEN i % 10 = 0 THEN i % 1000 END FROM "
        "generate_series(40001, 60000) AS g(i)");
    Exec("ANALYZE resources");
    Exec("ANALYZE attr_values");
  }

  // EXPLAIN of `sql`, its :name parameters spelled as literals (the custom plan PostgreSQL
  // makes for the values).
  std::string Plan(std::string sql, std::vector<std::pair<std::string, std::string>> params) {
    // Longer names first: ":f10" before ":f1".
    std::sort(params.begin(), params.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    for (const auto& [name, value] : params) {
      std::string literal = "'";
      for (char c : value) literal += c == '\'' ? std::string("''") : std::string(1, c);
      literal += "'";
      for (size_t at = sql.find(":" + name); at != std::string::npos;
           at = sql.find(":" + name, at + literal.size())) {
        sql.replace(at, name.size() + 1, literal);
      }
    }
    std::string plan;
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           soci::rowset<soci::row> rows = (s.prepare << "EXPLAIN " + sql);
                           for (const soci::row& row : rows) plan += row.get<std::string>(0) + "\n";
                           return OkStatus();
                         }).ok(),
                       sql);
    BOOST_TEST_MESSAGE(sql << "\n" << plan);
    return plan;
  }

  // The plan of a list's statement for `filter` on `type` (listing.cc's WhereClause).
  std::string FilterPlan(const std::string& type, const std::string& filter) {
    const auto& registry = WidgetRegistry();
    auto bound = filter::ParseAndBind(filter, registry, TypeOf(registry, type));
    BOOST_TEST_REQUIRE(bound.ok(), filter);
    auto compiled = CompileFilter(*bound, Dialect::kPostgres);
    BOOST_TEST_REQUIRE(compiled.ok(), filter);
    auto params = compiled->params;
    params.emplace_back("tenant", "t1");
    params.emplace_back("rtype", type);
    return Plan(
        "SELECT r.id FROM resources r WHERE r.tenant = :tenant AND r.resource_type = "
        ":rtype AND (" +
            compiled->sql + ") ORDER BY r.id LIMIT 100",
        params);
  }
};

BOOST_AUTO_TEST_SUITE(write_index_plan)

BOOST_AUTO_TEST_CASE(partial_indexes_serve_filters_and_sorts,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  Indexed db;
  // Numeric comparisons: a strict operator on num, which implies num IS NOT NULL.
  for (const char* filter : {"count gt 990", "count eq 500", "count le 5"}) {
    std::string plan = db.FilterPlan("Widget", filter);
    BOOST_TEST(plan.find("attr_values_num") != std::string::npos, filter << ":\n" << plan);
  }
  // co/sw/ew on userName (Users) and displayName (Groups): the trigram indexes.
  for (const char* filter : {"userName co \"r1234@\"", "userName ew \"34@hr.example.com\""}) {
    std::string plan = db.FilterPlan("User", filter);
    BOOST_TEST(plan.find("resources_user_name_contains") != std::string::npos, filter << ":\n"
                                                                                      << plan);
  }
  std::string groups = db.FilterPlan("Group", "displayName co \"m 21234\"");
  BOOST_TEST(groups.find("resources_display_name_contains") != std::string::npos, groups);
  // The indexed sort of a numeric attribute walks attr_values_num in order: no Sort node.
  std::string sort = db.Plan(
      "SELECT s.resource_id, s.num FROM attr_values s WHERE s.tenant = :tenant AND "
      "s.resource_type = :rtype AND s.path = :spath AND s.num IS NOT NULL ORDER BY s.num ASC, "
      "s.resource_id ASC LIMIT 100 OFFSET 0",
      {{"tenant", "t1"}, {"rtype", "Widget"}, {"spath", "count"}});
  BOOST_TEST(sort.find("attr_values_num") != std::string::npos, sort);
  BOOST_TEST(sort.find("Sort") == std::string::npos, sort);
  // The indexes are partial: a User's NULL displayName and every string's NULL num have no
  // entry (the point of migration 015).
  std::string defs;
  BOOST_TEST_REQUIRE(db.db
                         ->WithSession([&](soci::session& s) -> Status {
                           soci::rowset<std::string> rows =
                               (s.prepare
                                << "SELECT indexdef FROM pg_indexes WHERE indexname IN "
                                   "('attr_values_num', 'resources_user_name_contains', "
                                   "'resources_display_name_contains') ORDER BY indexname");
                           for (const std::string& d : rows) defs += d + "\n";
                           return OkStatus();
                         })
                         .ok());
  BOOST_TEST(defs.find("WHERE (num IS NOT NULL)") != std::string::npos, defs);
  BOOST_TEST(defs.find("WHERE (user_name_lc IS NOT NULL)") != std::string::npos, defs);
  BOOST_TEST(defs.find("WHERE (display_name_lc IS NOT NULL)") != std::string::npos, defs);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
