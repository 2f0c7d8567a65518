// Unicode case folding in the store, on SQLite and PostgreSQL: userName uniqueness and
// caseExact=false filters compare scim::FoldCase keys ("JÜRGEN" and "jürgen" are one user), long
// values compare on their whole folded form, and migration 008's C++ step re-folds keys written
// by earlier versions (ASCII lower-casing).

#include <boost/test/unit_test.hpp>

#include "scim/filter/bind.h"
#include "scim/store/resource_store.h"
#include "store/case_fold_migration.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

class FoldFixture {
 public:
  explicit FoldFixture(bool postgres) : scratch_(postgres, "unicode") {
    auto loaded = schema::Registry::LoadEmbedded();
    BOOST_TEST_REQUIRE(loaded.ok());
    registry_ = *loaded;
    store_ = std::make_unique<ResourceStore>(scratch_.db, registry_);
  }

  Result<json::Document> Create(const std::string& body) {
    json::Document d;
    BOOST_TEST_REQUIRE(json::Parse(body, d).ok(), body);
    return store_->Create(ctx_, "User", std::move(d), {}, std::nullopt);
  }

  std::string CreateUser(const std::string& user_name, const std::string& extra = "") {
    auto created = Create(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
                          R"("userName":")" +
                          user_name + "\"" + extra + "}");
    BOOST_TEST_REQUIRE(created.ok(), user_name);
    return (*created)["id"].GetString();
  }

  // The ids of the Users `text` matches, sorted.
  std::vector<std::string> Find(const std::string& text) {
    const schema::ResourceType& type = *registry_->FindResourceType("User");
    auto bound = filter::ParseAndBind(text, *registry_, type);
    BOOST_TEST_REQUIRE(bound.ok(), text);
    ListQuery query;
    query.filter = *bound;
    query.count = 1000;
    auto page = store_->List("default", "User", query);
    BOOST_TEST_REQUIRE(page.ok(), text << ": " << (page.ok() ? "" : page.error().detail));
    std::vector<std::string> ids;
    for (const json::Document& r : page->resources) ids.emplace_back(r["id"].GetString());
    std::sort(ids.begin(), ids.end());
    BOOST_TEST(page->total_results == static_cast<int64_t>(ids.size()), text);
    return ids;
  }

  ScratchDatabase scratch_;
  std::shared_ptr<const schema::Registry> registry_;
  std::unique_ptr<ResourceStore> store_;
  WriteContext ctx_{"default", "tester"};
};

void UserNameUniquenessFoldsUnicode(bool postgres) {
  FoldFixture f(postgres);
  f.CreateUser("jürgen");
  for (const char* twin : {"JÜRGEN", "Jürgen", "JU\xCC\x88RGEN"}) {
    auto dup =
        f.Create(std::string(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)") +
                 R"("userName":")" + twin + "\"}");
    BOOST_TEST_REQUIRE(!dup.ok(), twin);
    BOOST_TEST((dup.error().code == ErrorCode::kUniqueness), twin);
  }
  f.CreateUser("straße");
  auto strasse = f.Create(
      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"STRASSE"})");
  BOOST_TEST_REQUIRE(!strasse.ok());
  BOOST_TEST((strasse.error().code == ErrorCode::kUniqueness));
  // Default folding: dotless ı is not i, so these are two users.
  f.CreateUser("ılker");
  f.CreateUser("ilker");
}

void FiltersFoldUnicode(bool postgres) {
  FoldFixture f(postgres);
  std::string jurgen = f.CreateUser(
      "jürgen", R"(,"displayName":"Jürgen Groß","emails":[{"value":"JÜRGEN@EXAMPLE.DE"}],)"
                R"("name":{"familyName":"ΟΔΥΣΣΕΥΣ"})");
  std::string other = f.CreateUser("bjensen", R"(,"displayName":"Barbara")");
  BOOST_TEST(f.Find(R"(userName eq "JÜRGEN")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find("userName eq \"JU\xCC\x88RGEN\"") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(userName sw "JÜR")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(userName co "ÜRG")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(userName ew "ÜRGEN")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(displayName co "GROSS")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(emails.value eq "jürgen@example.de")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(emails.value sw "jÜr")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(emails[value co "ÜRGEN@"])") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(name.familyName eq "οδυσσευς")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(name.familyName ew "ευς")") == std::vector<std::string>{jurgen});
  BOOST_TEST(f.Find(R"(userName ne "JÜRGEN")") == std::vector<std::string>{other});
  BOOST_TEST(f.Find(R"(userName eq "jurgen")").empty());
}

void LongValuesCompareWhole(bool postgres) {
  FoldFixture f(postgres);
  // Longer than attr_values.value_lc keeps (1000 bytes): the tail is only in value_lc_full.
  std::string title(1200, 'x');
  std::string id = f.CreateUser("long", R"(,"title":")" + title + "ÄNDE\"");
  BOOST_TEST(f.Find(R"(title ew "xände")") == std::vector<std::string>{id});
  BOOST_TEST(f.Find(R"(title co "XXÄND")") == std::vector<std::string>{id});
  BOOST_TEST(f.Find("title eq \"" + title + "ände\"") == std::vector<std::string>{id});
  BOOST_TEST(f.Find("title sw \"" + title + "Ä\"") == std::vector<std::string>{id});
  BOOST_TEST(f.Find(R"(title ew "xande")").empty());
}

// Data written before migration 008 (ASCII-lower-cased keys) is re-folded by its C++ step; two
// userNames that fold alike keep the older one's claim, and the newer one is reported.
void MigrationRefoldsOldKeys(bool postgres) {
  FoldFixture f(postgres);
  std::string older = f.CreateUser("JÜRGEN", R"(,"emails":[{"value":"ÄRGER@X.DE"}])");
  std::string mixed = f.CreateUser("MÜLLER", R"(,"displayName":"GROẞ")");
  // What scimd before 008 stored: ASCII lower-casing leaves Ü, Ä and ẞ as they are.
  f.scratch_.Exec("UPDATE resources SET user_name_lc = 'jÜrgen' WHERE id = '" + older + "'");
  f.scratch_.Exec(
      "UPDATE resources SET user_name_lc = 'mÜller', display_name_lc = 'groẞ' "
      "WHERE id = '" +
      mixed + "'");
  f.scratch_.Exec("UPDATE attr_values SET value_lc = 'Ärger@x.de' WHERE resource_id = '" + older +
                  "'");
  // A second spelling that the old ASCII-only key let in.
  f.scratch_.Exec("UPDATE resources SET created = '2000-01-01T00:00:00.000Z' WHERE id = '" + older +
                  "'");
  std::string newer = f.CreateUser("jürgen-tmp");
  f.scratch_.Exec(
      "UPDATE resources SET user_name = 'jürgen', user_name_lc = 'jürgen' WHERE id = '" + newer +
      "'");
  BOOST_TEST(f.Find(R"(userName eq "jürgen")") == std::vector<std::string>{newer});
  BOOST_TEST(f.Find(R"(emails.value eq "ärger@x.de")").empty());

  std::vector<std::string> logged;
  Status refolded = f.scratch_.db->InTransaction([&](soci::session& s) -> Status {
    RefoldCaseKeys(s, f.scratch_.db->dialect(),
                   [&](const std::string& line) { logged.push_back(line); });
    return OkStatus();
  });
  BOOST_TEST_REQUIRE(refolded.ok());
  BOOST_TEST(f.Find(R"(userName eq "müller")") == std::vector<std::string>{mixed});
  BOOST_TEST(f.Find(R"(displayName eq "gross")") == std::vector<std::string>{mixed});
  BOOST_TEST(f.Find(R"(emails.value eq "ärger@x.de")") == std::vector<std::string>{older});
  // Both "JÜRGEN" (older) and "jürgen" (newer) want the key "jürgen"; the newer one holds it
  // already (it was written as jürgen), so the older one keeps its old key and is reported.
  BOOST_TEST(f.Find(R"(userName eq "jürgen")") == std::vector<std::string>{newer});
  BOOST_TEST_REQUIRE(logged.size() == 1u);
  BOOST_TEST(logged[0].find(older) != std::string::npos);
  BOOST_TEST(logged[0].find(newer) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE(unicode_fold_store)

BOOST_AUTO_TEST_CASE(user_name_uniqueness_folds_unicode_on_sqlite) {
  UserNameUniquenessFoldsUnicode(false);
}
BOOST_AUTO_TEST_CASE(user_name_uniqueness_folds_unicode_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  UserNameUniquenessFoldsUnicode(true);
}
BOOST_AUTO_TEST_CASE(filters_fold_unicode_on_sqlite) { FiltersFoldUnicode(false); }
BOOST_AUTO_TEST_CASE(filters_fold_unicode_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  FiltersFoldUnicode(true);
}
BOOST_AUTO_TEST_CASE(long_values_compare_whole_on_sqlite) { LongValuesCompareWhole(false); }
BOOST_AUTO_TEST_CASE(long_values_compare_whole_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  LongValuesCompareWhole(true);
}
BOOST_AUTO_TEST_CASE(migration_refolds_old_keys_on_sqlite) { MigrationRefoldsOldKeys(false); }
BOOST_AUTO_TEST_CASE(migration_refolds_old_keys_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  MigrationRefoldsOldKeys(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
