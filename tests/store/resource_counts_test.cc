// totalResults of an unfiltered listing comes from the resource_counts shards (migration 012),
// maintained in each write's transaction: creates, deletes, /Bulk-style transactions with
// failing savepoints and whole rolled-back transactions keep it equal to COUNT(*), per tenant and
// per type; filtered listings still count what matches. On SQLite, and on PostgreSQL when
// SCIMD_TEST_PG_URL names a server; there also: two connections update different shard rows, so
// one's open create does not block the other's (no hot row).

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "scim/filter/bind.h"
#include "scim/store/resource_store.h"
#include "store/sql_util.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

const WriteContext kCtx{"default", "tester"};

json::Document UserDoc(const std::string& user_name) {
  json::Document doc;
  std::string body =
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"" + user_name +
      "\"}";
  BOOST_TEST_REQUIRE(json::Parse(body, doc).ok());
  return doc;
}

json::Document GroupDoc(const std::string& name) {
  json::Document doc;
  std::string body =
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
      "\"displayName\":\"" +
      name + "\"}";
  BOOST_TEST_REQUIRE(json::Parse(body, doc).ok());
  return doc;
}

long long Scalar(Database& db, const std::string& sql) {
  long long value = -1;
  BOOST_TEST_REQUIRE(db.WithSession([&](soci::session& s) -> Status {
                         soci::row r;
                         s << sql, soci::into(r);
                         value = IntegerAt(r, 0);
                         return OkStatus();
                       }).ok());
  return value;
}

struct Counts {
  ScratchDatabase& scratch;
  ResourceStore& store;

  // totalResults of GET /<type> without a filter (count=0: no page is read).
  int64_t Listed(const std::string& type, const std::string& tenant = "default") {
    ListQuery query;
    query.count = 0;
    auto page = store.List(tenant, type, query);
    BOOST_TEST_REQUIRE(page.ok());
    return page->total_results;
  }
  long long Rows(const std::string& type, const std::string& tenant = "default") {
    return Scalar(*scratch.db, "SELECT COUNT(*) FROM resources WHERE tenant = '" + tenant +
                                   "' AND resource_type = '" + type + "'");
  }
  // The listed total equals COUNT(*) and the expected figure.
  void Expect(const std::string& type, long long expected, const std::string& tenant = "default") {
    BOOST_TEST(Rows(type, tenant) == expected);
    BOOST_TEST(Listed(type, tenant) == expected);
  }
  std::string Create(const std::string& user_name, const WriteContext& ctx = kCtx) {
    auto created = store.Create(ctx, "User", UserDoc(user_name), {}, std::nullopt);
    BOOST_TEST_REQUIRE(created.ok());
    return (*created)["id"].GetString();
  }
};

void CreatesAndDeletes(ScratchDatabase& scratch, ResourceStore& store) {
  Counts c{scratch, store};
  c.Expect("User", 0);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(c.Create("count" + std::to_string(i)));
  auto group = store.Create(kCtx, "Group", GroupDoc("counted"), {}, std::nullopt);
  BOOST_TEST_REQUIRE(group.ok());
  c.Expect("User", 5);
  c.Expect("Group", 1);
  BOOST_TEST_REQUIRE(store.Delete(kCtx, "User", ids[0], std::nullopt).ok());
  BOOST_TEST_REQUIRE(store.Delete(kCtx, "User", ids[1], std::nullopt).ok());
  c.Expect("User", 3);
  // Deleting what is gone changes nothing.
  BOOST_TEST(!store.Delete(kCtx, "User", ids[0], std::nullopt).ok());
  c.Expect("User", 3);
  // A duplicate userName (uniqueness) is refused and not counted.
  BOOST_TEST(!store.Create(kCtx, "User", UserDoc("count2"), {}, std::nullopt).ok());
  c.Expect("User", 3);
  // Another tenant counts apart.
  WriteContext other{"other", "tester"};
  c.Create("count-other", other);
  c.Expect("User", 1, "other");
  c.Expect("User", 3);
  // A filter still counts what matches (COUNT(*)).
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  auto bound = filter::ParseAndBind("userName sw \"count\"", **registry,
                                    *(*registry)->FindResourceType("User"));
  BOOST_TEST_REQUIRE(bound.ok());
  ListQuery query;
  query.filter = std::move(bound).value();
  query.count = 0;
  auto page = store.List("default", "User", query);
  BOOST_TEST_REQUIRE(page.ok());
  BOOST_TEST(page->total_results == 3);
}

void TransactionsRollBackTheirCounts(ScratchDatabase& scratch, ResourceStore& store) {
  Counts c{scratch, store};
  std::string kept = c.Create("kept");
  // A whole transaction that fails: neither its creates nor its delete count.
  Status failed = store.InOneTransaction([&]() -> Status {
    c.Create("rolled-back-1");
    c.Create("rolled-back-2");
    BOOST_TEST(store.Delete(kCtx, "User", kept, std::nullopt).ok());
    return Error(ErrorCode::kInvalidValue, "refused");
  });
  BOOST_TEST(!failed.ok());
  c.Expect("User", 1);
  // /Bulk: operations share one transaction, each in a savepoint; the failing one (a duplicate
  // userName) is undone alone, the others commit with their counts.
  Status bulk = store.InOneTransaction([&]() -> Status {
    for (int i = 0; i < 4; ++i) c.Create("bulk" + std::to_string(i));
    BOOST_TEST(!store.Create(kCtx, "User", UserDoc("bulk1"), {}, std::nullopt).ok());
    BOOST_TEST(store.Delete(kCtx, "User", kept, std::nullopt).ok());
    // Inside the transaction the count already includes its own writes.
    BOOST_TEST(c.Listed("User") == 4);
    return OkStatus();
  });
  BOOST_TEST_REQUIRE(bulk.ok());
  c.Expect("User", 4);
}

// Migration 012 fills the counters from the rows that exist when it runs.
void MigrationFillsFromExistingRows(ScratchDatabase& scratch, ResourceStore& store) {
  Counts c{scratch, store};
  for (int i = 0; i < 3; ++i) c.Create("before" + std::to_string(i));
  c.Create("before-other", WriteContext{"other", "tester"});
  scratch.Exec("DROP TABLE resource_counts");
  scratch.Exec("DELETE FROM schema_migrations WHERE version = 12");
  BOOST_TEST_REQUIRE(scratch.db->Migrate().ok());
  c.Expect("User", 3);
  c.Expect("User", 1, "other");
  c.Expect("Group", 0);
  c.Create("after");
  c.Expect("User", 4);
}

void RunAll(bool postgres) {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  {
    ScratchDatabase scratch(postgres, "counts");
    ResourceStore store(scratch.db, *registry);
    CreatesAndDeletes(scratch, store);
  }
  {
    ScratchDatabase scratch(postgres, "counts_tx");
    ResourceStore store(scratch.db, *registry);
    TransactionsRollBackTheirCounts(scratch, store);
  }
  {
    ScratchDatabase scratch(postgres, "counts_fill");
    ResourceStore store(scratch.db, *registry);
    MigrationFillsFromExistingRows(scratch, store);
  }
}

BOOST_AUTO_TEST_SUITE(resource_counts)

BOOST_AUTO_TEST_CASE(resource_counts_on_sqlite) { RunAll(false); }

BOOST_AUTO_TEST_CASE(resource_counts_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  RunAll(true);
}

// Two connections (as two scimd processes would have) create at the same time: while one's
// create is uncommitted, the other's create commits without waiting for it, since each adds to
// its own backend's shard row. Skipped if the two backends' pids fall on one shard (1 in 64).
BOOST_AUTO_TEST_CASE(no_hot_row_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ScratchDatabase scratch(true, "counts_hot");
  auto a_db = store::Database::Open(scratch.url(), 1);
  auto b_db = store::Database::Open(scratch.url(), 1);
  BOOST_TEST_REQUIRE((a_db.ok() && b_db.ok()));
  ResourceStore a(*a_db, *registry), b(*b_db, *registry);
  Counts c{scratch, a};
  long long b_shard = Scalar(**b_db, "SELECT pg_backend_pid() % 64");
  std::future<bool> other;
  bool checked = false, ready = false;
  Status outer = a.InOneTransaction([&]() -> Status {
    auto created = a.Create(kCtx, "User", UserDoc("open-a"), {}, std::nullopt);
    BOOST_TEST_REQUIRE(created.ok());
    long long a_shard = Scalar(**a_db, "SELECT pg_backend_pid() % 64");
    if (a_shard == b_shard) {
      BOOST_TEST_MESSAGE("both backends on shard " << a_shard << ": not checked");
      return OkStatus();
    }
    // The future lives outside: if b were blocked on a's row lock, it finishes once a commits.
    other = std::async(std::launch::async, [&] {
      return b.Create(kCtx, "User", UserDoc("concurrent-b"), {}, std::nullopt).ok();
    });
    checked = true;
    ready = other.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    return OkStatus();
  });
  BOOST_TEST_REQUIRE(outer.ok());
  if (checked) {
    BOOST_TEST(ready);  // b committed while a's create was still open
    BOOST_TEST(other.get());
  }
  BOOST_TEST(Scalar(*scratch.db,
                    "SELECT COUNT(*) FROM resource_counts WHERE tenant = 'default' "
                    "AND resource_type = 'User'") >= 1);
  c.Expect("User", Scalar(*scratch.db, "SELECT COUNT(*) FROM resources"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
