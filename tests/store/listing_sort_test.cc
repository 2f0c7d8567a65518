// ResourceStore::List with sortBy, page by page, against an order computed here: resources with
// a value by (value, id), then those without by id; descending exactly reversed (RFC 7644
// §3.4.2.3). Runs on SQLite, and on PostgreSQL when SCIMD_TEST_PG_URL names a server (a
// throwaway database is created and dropped).

#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "scim/common/strings.h"
#include "scim/filter/bind.h"
#include "scim/store/resource_store.h"
#include "store/filter_sql.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

struct SortedUser {
  std::string id;
  std::optional<std::string> title;
  bool active = false;
};

// A migrated database of its own: a SQLite file, or a PostgreSQL database on SCIMD_TEST_PG_URL.

// Titles with ties that differ only in case, and gaps (users without a title).
std::vector<SortedUser> CreateUsers(ResourceStore& store, int n) {
  const char* titles[] = {"Engineer", "engineer", "Manager", "analyst", "Zeta", "ANALYST", "b"};
  std::vector<SortedUser> users;
  for (int i = 0; i < n; ++i) {
    SortedUser u;
    if (i % 5 != 0) u.title = titles[(i * 3) % 7];
    u.active = i % 3 != 0;
    std::string body =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
        "\"userName\":\"sorted" +
        std::to_string(i) + "\",\"active\":" + (u.active ? "true" : "false") +
        (u.title ? ",\"title\":\"" + *u.title + "\"" : "") + "}";
    json::Document doc;
    BOOST_TEST_REQUIRE(json::Parse(body, doc).ok());
    auto created =
        store.Create(WriteContext{"default", "tester"}, "User", std::move(doc), {}, std::nullopt);
    BOOST_TEST_REQUIRE(created.ok());
    u.id = (*created)["id"].GetString();
    users.push_back(u);
  }
  return users;
}

std::vector<std::string> ExpectedOrder(std::vector<SortedUser> users, bool active_only,
                                       bool descending) {
  std::erase_if(users, [&](const SortedUser& u) { return active_only && !u.active; });
  std::sort(users.begin(), users.end(), [](const SortedUser& a, const SortedUser& b) {
    if (a.title.has_value() != b.title.has_value()) return a.title.has_value();
    if (a.title && ToLower(*a.title) != ToLower(*b.title))
      return ToLower(*a.title) < ToLower(*b.title);
    return a.id < b.id;
  });
  std::vector<std::string> ids;
  for (const auto& u : users) ids.push_back(u.id);
  if (descending) std::reverse(ids.begin(), ids.end());
  return ids;
}

void CheckPagedSorts(const std::shared_ptr<Database>& db) {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ResourceStore store(db, *registry);
  const schema::ResourceType& user_type = *(*registry)->FindResourceType("User");
  std::vector<SortedUser> users = CreateUsers(store, 38);
  auto title = (*registry)->ResolvePath(user_type, "title");
  BOOST_TEST_REQUIRE(title.ok());
  BOOST_TEST_REQUIRE(CompileIndexedSort(*title).has_value());  // the pager, not ORDER BY a key
  for (bool active_only : {false, true}) {
    for (bool descending : {false, true}) {
      std::vector<std::string> expected = ExpectedOrder(users, active_only, descending);
      for (int64_t count : {1, 4, 7, 13, 100}) {
        ListQuery query;
        query.sort_by = *title;
        query.descending = descending;
        query.count = count;
        if (active_only)
          query.filter = *filter::ParseAndBind("active eq true", **registry, user_type);
        std::vector<std::string> got;
        for (int64_t start = 1; start <= static_cast<int64_t>(expected.size()) + count;
             start += count) {
          query.start_index = start;
          auto page = store.List("default", "User", query);
          BOOST_TEST_REQUIRE(page.ok(), (page.ok() ? "" : page.error().detail));
          BOOST_TEST(page->total_results == static_cast<int64_t>(expected.size()));
          for (const auto& r : page->resources) got.push_back(r["id"].GetString());
        }
        BOOST_TEST(got == expected, "active_only " << active_only << " descending " << descending
                                                   << " count " << count);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(listing_sort)

BOOST_AUTO_TEST_CASE(indexed_sort_pages_on_sqlite) {
  ScratchDatabase scratch(false, "listing");
  CheckPagedSorts(scratch.db);
}

BOOST_AUTO_TEST_CASE(indexed_sort_pages_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  ScratchDatabase scratch(true, "listing");
  CheckPagedSorts(scratch.db);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::store
