// Filter→SQL compiler: the shape of the SQL (parameters, never spliced values, index-friendly
// predicates), and a differential test against the evaluator on SQLite (and on PostgreSQL when
// SCIMD_TEST_PG is a libpq connection string, e.g. "host=127.0.0.1 port=55432 dbname=scim
// user=scim").
#include "store/filter_sql.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "scim/filter/parser.h"
#include "store/filter_cases.h"

namespace scim::store {
namespace {

using testing::TypeOf;
using testing::WidgetRegistry;

SqlFragment Compile(std::string_view text, std::string_view type = "User",
                    Dialect dialect = Dialect::kSqlite) {
  const auto& registry = WidgetRegistry();
  auto bound = filter::ParseAndBind(text, registry, TypeOf(registry, type));
  BOOST_TEST_REQUIRE(bound.ok(), text << ": " << (bound.ok() ? "" : bound.error().detail));
  auto sql = CompileFilter(*bound, dialect);
  BOOST_TEST_REQUIRE(sql.ok(), text << ": " << (sql.ok() ? "" : sql.error().detail));
  return std::move(*sql);
}

Error CompileError(std::string_view text, std::string_view type = "User") {
  const auto& registry = WidgetRegistry();
  auto bound = filter::ParseAndBind(text, registry, TypeOf(registry, type));
  BOOST_TEST_REQUIRE(bound.ok(), text << ": " << (bound.ok() ? "" : bound.error().detail));
  auto sql = CompileFilter(*bound, Dialect::kSqlite);
  BOOST_TEST_REQUIRE(!sql.ok(), text);
  return sql.error();
}

using Params = std::vector<std::pair<std::string, std::string>>;

std::string Param(const SqlFragment& f, const std::string& name) {
  for (const auto& [n, v] : f.params) {
    if (n == name) return v;
  }
  BOOST_ERROR("no parameter " << name << " in " << f.sql);
  return "";
}

// Every parameter is referenced and no value appears in the SQL text.
void CheckParams(const SqlFragment& f) {
  for (size_t i = 0; i < f.params.size(); ++i) {
    BOOST_TEST(f.params[i].first == "f" + std::to_string(i));
    BOOST_TEST(f.sql.find(":" + f.params[i].first) != std::string::npos);
    const std::string& value = f.params[i].second;
    if (value.size() > 3 && value.find_first_of("'%\\") != std::string::npos) {
      BOOST_TEST(f.sql.find(value) == std::string::npos, "value spliced: " << value);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(filter_sql)

BOOST_AUTO_TEST_CASE(columns_of_resources) {
  SqlFragment f = Compile("userName eq \"BJensen@Example.com\"");
  BOOST_TEST(f.sql == "(r.user_name_lc IS NOT NULL AND r.user_name_lc = :f0)");
  BOOST_TEST(f.params == (Params{{"f0", "bjensen@example.com"}}));

  f = Compile("externalId eq \"AbC\"");  // caseExact
  BOOST_TEST(f.sql == "(r.external_id IS NOT NULL AND r.external_id = :f0)");
  BOOST_TEST(Param(f, "f0") == "AbC");

  f = Compile("displayName sw \"Ba\"", "Group");
  BOOST_TEST(f.sql ==
             "(r.display_name_lc IS NOT NULL AND r.display_name_lc >= :f0 AND "
             "r.display_name_lc < :f1)");
  BOOST_TEST(f.params == (Params{{"f0", "ba"}, {"f1", "bb"}}));

  f = Compile("active eq true");
  BOOST_TEST(f.sql == "(r.active IS NOT NULL AND r.active = CAST(:f0 AS INTEGER))");
  BOOST_TEST(Param(f, "f0") == "1");

  f = Compile("meta.lastModified gt \"2011-05-13T06:42:34+02:00\"");
  BOOST_TEST(f.sql == "(r.last_modified IS NOT NULL AND r.last_modified > :f0)");
  BOOST_TEST(Param(f, "f0") == "2011-05-13T04:42:34.000Z");

  f = Compile("id eq \"2819c223\"");
  BOOST_TEST(f.sql == "(r.id IS NOT NULL AND r.id = :f0)");

  f = Compile("meta.resourceType eq \"User\"");
  BOOST_TEST(f.sql == "(r.resource_type IS NOT NULL AND r.resource_type = :f0)");

  f = Compile("userName pr");
  BOOST_TEST(f.sql == "(r.user_name_lc IS NOT NULL AND r.user_name <> '')");
}

BOOST_AUTO_TEST_CASE(attr_values_leaves) {
  SqlFragment f = Compile("emails.value eq \"X@Example.com\"");
  BOOST_TEST(f.sql ==
             "r.id IN (SELECT v1.resource_id FROM attr_values v1 WHERE v1.tenant = :tenant AND "
             "v1.resource_type = :rtype AND v1.path = :f0 AND v1.value_lc = :f1)");
  BOOST_TEST(f.params == (Params{{"f0", "emails.value"}, {"f1", "x@example.com"}}));

  f = Compile("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"M\"");
  BOOST_TEST(Param(f, "f0") ==
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value");
  BOOST_TEST(Param(f, "f1") == "m");

  f = Compile("code eq \"AbC\"", "Widget");  // caseExact: index on value_lc plus exact check
  BOOST_TEST(f.sql.find("v1.value_lc = :f1 AND v1.value = :f2") != std::string::npos);
  BOOST_TEST(f.params == (Params{{"f0", "code"}, {"f1", "abc"}, {"f2", "AbC"}}));

  f = Compile("count ge 3", "Widget");
  BOOST_TEST(f.sql.find("v1.num >= CAST(:f1 AS REAL)") != std::string::npos);
  BOOST_TEST(Param(f, "f1") == "3");
  f = Compile("count ge 3", "Widget", Dialect::kPostgres);
  BOOST_TEST(f.sql.find("v1.num >= CAST(:f1 AS DOUBLE PRECISION)") != std::string::npos);

  f = Compile("emails.primary eq true");
  BOOST_TEST(f.sql.find("v1.value_lc = :f1") != std::string::npos);
  BOOST_TEST(Param(f, "f1") == "true");

  f = Compile("since lt \"2020-01-01T00:00:00Z\"", "Widget");
  BOOST_TEST(f.sql.find("v1.value_lc < :f1") != std::string::npos);
  BOOST_TEST(Param(f, "f1") == "2020-01-01t00:00:00.000z");

  f = Compile("title pr");
  BOOST_TEST(f.sql.find("v1.path = :f0 AND v1.value <> ''") != std::string::npos);

  f = Compile("name pr");
  BOOST_TEST(f.sql.find("v1.path IN (:f0, :f1, :f2, :f3, :f4, :f5) AND v1.value <> ''") !=
             std::string::npos);
  BOOST_TEST(Param(f, "f1") == "name.familyname");
}

BOOST_AUTO_TEST_CASE(substring_operators) {
  // SQLite: on the covering index's value_lc, and on the full value only where value_lc is cut.
  SqlFragment co = Compile("title co \"50%_\\\\x\"");
  BOOST_TEST(co.sql.find("v1.value_lc >= '' AND (v1.value_lc LIKE :f1 ESCAPE '\\' OR "
                         "(length(CAST(v1.value_lc AS BLOB)) > 996 AND "
                         "COALESCE(v1.value_lc_full, v1.value_lc) LIKE :f2 ESCAPE '\\'))") !=
                 std::string::npos,
             co.sql);
  BOOST_TEST(Param(co, "f1") == "%50\\%\\_\\\\x%");
  BOOST_TEST(Param(co, "f2") == Param(co, "f1"));
  SqlFragment pg = Compile("title co \"50%\"", "User", Dialect::kPostgres);
  BOOST_TEST(pg.sql.find("COALESCE(v1.value_lc_full, v1.value_lc) LIKE :f1)") != std::string::npos);

  // A cut value_lc's ending is not the value's: ew trusts value_lc only when it is whole.
  SqlFragment ew = Compile("title ew \"X\"");
  BOOST_TEST(Param(ew, "f1") == "%x");
  BOOST_TEST(ew.sql.find("(NOT length(CAST(v1.value_lc AS BLOB)) > 996 AND v1.value_lc LIKE :f1") !=
             std::string::npos);

  SqlFragment sw = Compile("title sw \"Ab\"");
  BOOST_TEST(sw.sql.find("v1.value_lc >= :f1 AND v1.value_lc < :f2") != std::string::npos);
  BOOST_TEST(Param(sw, "f2") == "ac");

  // Exact: GLOB on SQLite (escaped metacharacters), LIKE on PostgreSQL (case-sensitive there).
  SqlFragment exact = Compile("code co \"a*b?[c\"", "Widget");
  BOOST_TEST(exact.sql.find("v1.value GLOB :f1") != std::string::npos);
  BOOST_TEST(Param(exact, "f1") == "*a[*]b[?][[]c*");
  SqlFragment exact_pg = Compile("code sw \"a%\"", "Widget", Dialect::kPostgres);
  BOOST_TEST(exact_pg.sql.find("v1.value_lc >= :f1 AND v1.value_lc < :f2 AND v1.value LIKE :f3") !=
             std::string::npos);
  BOOST_TEST(Param(exact_pg, "f3") == "a\\%%");

  // Empty literals match every value.
  BOOST_TEST(Compile("title co \"\"").sql.find("1 = 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(values_are_never_spliced) {
  const char* hostile[] = {
      "title eq \"x' OR '1'='1\"",    "title co \"%'; DROP TABLE resources; --\"",
      "userName sw \"a'b\\\\c%d_e\"", "externalId eq \"' OR 1=1 --\"",
      "emails[value ew \"'--\"]",     "code gt \"\\\\'\"",
      "members eq \"x' OR '1'='1\""};
  for (const char* text : hostile) {
    std::string type = std::string(text).find("code") == 0      ? "Widget"
                       : std::string(text).find("members") == 0 ? "Group"
                                                                : "User";
    for (Dialect d : {Dialect::kSqlite, Dialect::kPostgres}) {
      SqlFragment f = Compile(text, type, d);
      CheckParams(f);
      // The only quotes in the SQL are the constant ones we write.
      std::string sql = f.sql;
      for (const char* constant : {"ESCAPE '\\'", "<> ''", ">= ''", "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'",
                                   "'abcdefghijklmnopqrstuvwxyz'"}) {
        for (size_t p; (p = sql.find(constant)) != std::string::npos;)
          sql.erase(p, strlen(constant));
      }
      BOOST_TEST(sql.find('\'') == std::string::npos, text << " -> " << f.sql);
    }
  }
}

BOOST_AUTO_TEST_CASE(logic_and_value_paths) {
  SqlFragment n = Compile("title ne \"x\"");
  BOOST_TEST(n.sql.rfind("NOT (r.id IN (", 0) == 0);
  SqlFragment a = Compile("title pr and (userType eq \"a\" or not (active eq false))");
  BOOST_TEST(a.sql.find(" AND (") != std::string::npos);
  BOOST_TEST(a.sql.find(" OR NOT (") != std::string::npos);

  // Anchored on the first comparison; the others are correlated on (resource, ord).
  SqlFragment vp = Compile("emails[type eq \"work\" and value co \"@x\"]");
  BOOST_TEST(vp.sql ==
             "r.id IN (SELECT v1.resource_id FROM attr_values v1 WHERE v1.tenant = :tenant AND "
             "v1.resource_type = :rtype AND v1.path = :f0 AND v1.value_lc = :f1 AND EXISTS "
             "(SELECT 1 FROM attr_values v2 WHERE v2.tenant = v1.tenant AND v2.resource_id = "
             "v1.resource_id AND v2.ord = v1.ord AND v2.path = :f2 AND v2.value_lc >= '' AND "
             "(v2.value_lc LIKE :f3 ESCAPE '\\' OR (length(CAST(v2.value_lc AS BLOB)) > 996 AND "
             "COALESCE(v2.value_lc_full, v2.value_lc) LIKE :f4 ESCAPE '\\'))))");
  // Without a positive anchor the candidates are every element of the attribute.
  SqlFragment neg = Compile("emails[not (type eq \"work\")]");
  BOOST_TEST(neg.sql.find("v1.path IN (:f0, :f1, :f2, :f3) AND (NOT (EXISTS (") !=
             std::string::npos);

  SqlFragment members = Compile("members[value eq \"ABC\" and type eq \"User\"]", "Group");
  BOOST_TEST(members.sql ==
             "r.id IN (SELECT m1.group_id FROM group_members m1 WHERE m1.tenant = :tenant AND "
             "((m1.member_id = :f0 AND lower(m1.member_type) = :f1)))");
  BOOST_TEST(Param(members, "f0") == "abc");  // ids are lower-case; members.value is not caseExact
  SqlFragment groups = Compile("groups eq \"G1\"");
  BOOST_TEST(groups.sql ==
             "r.id IN (SELECT m1.member_id FROM group_members m1 WHERE m1.tenant = "
             ":tenant AND m1.group_id = :f0)");
  BOOST_TEST(
      Compile("meta[created gt \"2020-01-01T00:00:00Z\" and resourceType eq \"User\"]").sql ==
      "((r.created IS NOT NULL AND r.created > :f0) AND (r.resource_type IS NOT NULL AND "
      "r.resource_type = :f1))");
  BOOST_TEST(Compile("members pr", "Group").sql ==
             "r.id IN (SELECT m1.group_id FROM group_members m1 WHERE m1.tenant = :tenant)");
}

BOOST_AUTO_TEST_CASE(unsupported_attributes) {
  BOOST_TEST(CompileError("members.display eq \"x\"", "Group").detail ==
             "filtering on 'members.display' is not supported");
  BOOST_TEST(std::string(ErrorCodeName(CompileError("members.$ref pr", "Group").code)) ==
             "invalidFilter");
  CompileError("groups.display eq \"x\"");
  CompileError("groups.type eq \"direct\"");
  CompileError("meta.location eq \"x\"");
  CompileError("meta.version eq \"x\"");
  CompileError("members[display eq \"x\"]", "Group");
}

BOOST_AUTO_TEST_CASE(long_literals_check_the_full_value) {
  std::string lit(kMaxIndexedValueBytes + 10, 'A');
  SqlFragment eq = Compile("title eq \"" + lit + "\"");
  BOOST_TEST(eq.sql.find("v1.value_lc = :f1 AND COALESCE(v1.value_lc_full, v1.value_lc) = :f2") !=
             std::string::npos);
  BOOST_TEST(Param(eq, "f1").size() == kMaxIndexedValueBytes);
  SqlFragment gt = Compile("title gt \"" + lit + "\"");
  BOOST_TEST(gt.sql.find("COALESCE(v1.value_lc_full, v1.value_lc) > :f1") != std::string::npos);
  // Short literals need no such check.
  BOOST_TEST(Compile("title eq \"abc\"").sql.find("COALESCE(") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(indexed_value_lc) {
  BOOST_TEST(IndexedValueLc("AbC") == "abc");
  BOOST_TEST(IndexedValueLc("ÉlAn") == "élan");  // Unicode case folding (scim::FoldCase)
  BOOST_TEST(IndexedValueLc("STRAẞE") == "strasse");
  BOOST_TEST(!IndexedValueFold("ÉlAn").full);
  std::string cut = std::string(kMaxIndexedValueBytes, 'A') + "Ü";
  BOOST_TEST(IndexedValueFold(cut).full.value_or("") ==
             std::string(kMaxIndexedValueBytes, 'a') + "ü");
  std::string s(kMaxIndexedValueBytes - 1, 'A');
  s += "é";  // 2 bytes straddling the limit
  BOOST_TEST(IndexedValueLc(s) == std::string(kMaxIndexedValueBytes - 1, 'a'));
  BOOST_TEST(IndexedValueLc(std::string(5000, 'x')).size() == kMaxIndexedValueBytes);
}

BOOST_AUTO_TEST_CASE(sort_keys) {
  const auto& registry = WidgetRegistry();
  auto key = [&](std::string_view path, std::string_view type, Dialect d) {
    auto rp = registry.ResolvePath(TypeOf(registry, type), path);
    BOOST_TEST_REQUIRE(rp.ok());
    return CompileSortKey(*rp, d);
  };
  BOOST_TEST(key("userName", "User", Dialect::kSqlite)->sql == "r.user_name_lc");
  BOOST_TEST(key("meta.lastModified", "User", Dialect::kPostgres)->sql == "r.last_modified");
  BOOST_TEST(key("externalId", "User", Dialect::kSqlite)->sql == "r.external_id");
  auto title = key("title", "User", Dialect::kSqlite);
  BOOST_TEST(title->sql ==
             "(SELECT MIN(s.value_lc) FROM attr_values s WHERE s.tenant = r.tenant "
             "AND s.resource_id = r.id AND s.path = :s0)");
  BOOST_TEST(key("code", "Widget", Dialect::kPostgres)->sql.find("MIN(s.value COLLATE \"C\")") !=
             std::string::npos);
  BOOST_TEST(key("count", "Widget", Dialect::kSqlite)->sql.find("MIN(s.num)") != std::string::npos);
  auto emails = key("emails", "User", Dialect::kSqlite);
  BOOST_TEST_REQUIRE(emails.ok());
  BOOST_TEST(emails->sql.find("ORDER BY CASE WHEN EXISTS") != std::string::npos);
  BOOST_TEST(emails->params.front().second == "emails.value");
  BOOST_TEST(SortTerm(*title, false) == title->sql + " ASC NULLS LAST");
  BOOST_TEST(SortTerm(*title, true) == title->sql + " DESC NULLS FIRST");
  BOOST_TEST(!key("members", "Group", Dialect::kSqlite).ok());
  BOOST_TEST(!key("name", "User", Dialect::kSqlite).ok());
  BOOST_TEST(std::string(ErrorCodeName(key("password", "User", Dialect::kSqlite).error().code)) ==
             "invalidValue");
}

// ---------------------------------------------------------------------------------------------
// Differential tests

namespace {

void CreateTables(soci::session& s, const std::string& dialect_dir) {
  // 008 adds attr_values.value_lc_full (the rows are loaded by the test's own indexer).
  for (const char* file : {"/001_initial.sql", "/008_unicode_case_folding.sql"}) {
    for (const std::string& stmt : testing::MigrationStatements(
             std::string(SCIMD_SOURCE_DIR) + "/migrations/" + dialect_dir + file)) {
      s << stmt;
    }
  }
}

void RunAll(soci::session& s, Dialect dialect) {
  const auto& registry = WidgetRegistry();
  testing::Dataset t1 = testing::GenerateDataset("t1", 1, 150, 40, 120);
  // Another tenant with the same ids but other content: a leak across tenants shows up.
  testing::Dataset t2 = testing::GenerateDataset("t2", 2, 150, 40, 120);
  testing::LoadDataset(s, registry, t1);
  testing::LoadDataset(s, registry, t2);

  const int kPerType = 700;
  testing::DifferentialStats stats =
      testing::RunFilterDifferential(s, dialect, registry, t1, kPerType, 7);
  BOOST_TEST_MESSAGE("filters " << stats.filters << ", bind errors " << stats.bind_errors
                                << ", compile errors " << stats.compile_errors << ", non-empty "
                                << stats.nonempty << ", partial " << stats.partial);
  BOOST_TEST(stats.mismatches == 0);
  BOOST_TEST(stats.compile_errors == 0);
  BOOST_TEST(stats.bind_errors < stats.filters / 50);
  // The generator must produce selective filters, not only all-or-nothing ones.
  BOOST_TEST(stats.partial > stats.filters / 3);

  for (const char* path :
       {"userName", "displayName", "externalId", "meta.lastModified", "meta.created",
        "name.familyName", "title", "emails", "emails.type",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"}) {
    testing::CheckSort(s, dialect, registry, t1, "User", path);
  }
  for (const char* path : {"displayName", "code", "count", "score", "since", "tags", "nums",
                           "parts", "parts.weight", "parts.at", "spec.size", "blob", "level"}) {
    testing::CheckSort(s, dialect, registry, t1, "Widget", path);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(differential_sqlite) {
  soci::session s(soci::sqlite3, "db=:memory:");
  CreateTables(s, "sqlite");
  RunAll(s, Dialect::kSqlite);
}

BOOST_AUTO_TEST_CASE(differential_postgres) {
  const char* conn = std::getenv("SCIMD_TEST_PG");
  if (conn == nullptr || *conn == '\0') {
    BOOST_TEST_MESSAGE("SCIMD_TEST_PG not set: PostgreSQL differential test skipped");
    return;
  }
  soci::session s(soci::postgresql, conn);
  std::string schema = "filter_diff_" + std::to_string(getpid());
  s << "DROP SCHEMA IF EXISTS " + schema + " CASCADE";
  s << "CREATE SCHEMA " + schema;
  s << "SET search_path TO " + schema;
  try {
    CreateTables(s, "postgresql");
    RunAll(s, Dialect::kPostgres);
  } catch (...) {
    s << "DROP SCHEMA " + schema + " CASCADE";
    throw;
  }
  s << "DROP SCHEMA " + schema + " CASCADE";
}

// A value longer than value_lc keeps: co may trust what value_lc contains, ew may not trust how
// value_lc ends (tests/store/filter_cases.h's generated filters never hit that case).
BOOST_AUTO_TEST_CASE(substring_operators_on_cut_values) {
  soci::session s(soci::sqlite3, "db=:memory:");
  CreateTables(s, "sqlite");
  std::string value = std::string(1100, 'A') + "END";
  std::string value_lc = IndexedValueLc(value);
  std::string value_lc_full = IndexedValueFold(value).full.value();
  s << "INSERT INTO resources (tenant, id, resource_type, created, last_modified, version, data) "
       "VALUES ('t1', 'u1', 'User', 'c', 'm', 1, '{}')";
  s << "INSERT INTO attr_values (tenant, resource_type, resource_id, path, ord, value, value_lc, "
       "value_lc_full) VALUES ('t1', 'User', 'u1', 'title', 0, :v, :lc, :full)",
      soci::use(value), soci::use(value_lc), soci::use(value_lc_full);
  auto matches = [&](const std::string& text) {
    return testing::QueryIds(s, "t1", "User", Compile(text)).size() == 1;
  };
  BOOST_TEST(!matches("title ew \"a\""));  // value_lc ends in 'a', the value does not
  BOOST_TEST(matches("title ew \"aEnd\""));
  BOOST_TEST(matches("title co \"aaa\""));   // in value_lc
  BOOST_TEST(matches("title co \"aend\""));  // past value_lc's end
  BOOST_TEST(!matches("title co \"aenda\""));
}

BOOST_AUTO_TEST_CASE(long_chains_run_on_sqlite) {
  soci::session s(soci::sqlite3, "db=:memory:");
  CreateTables(s, "sqlite");
  std::string text = "title eq \"t0\"";
  for (int i = 1; text.size() < filter::kMaxFilterLength - 40; ++i) {
    text += " or title eq \"t" + std::to_string(i) + "\"";
  }
  SqlFragment f = Compile(text);
  BOOST_TEST(f.params.size() > 800u);
  std::vector<std::string> ids = testing::QueryIds(s, "t1", "User", f);
  BOOST_TEST(ids.empty());
  std::string ands = "emails[type eq \"a\"]";
  while (ands.size() < filter::kMaxFilterLength - 40) ands += " and not (emails[value pr])";
  SqlFragment g = Compile(ands);
  BOOST_TEST(testing::QueryIds(s, "t1", "User", g).empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::store
