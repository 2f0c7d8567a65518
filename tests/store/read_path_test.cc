// ResourceStore::Get reads a User, its groups and its manager's current name in one statement
// (issue 12): the answer must be what the separate queries gave: groups ordered by id with their
// displayName and type "direct", manager.displayName following the manager's renames, no groups
// when not asked for or when the user is in none. On SQLite, and on PostgreSQL when
// SCIMD_TEST_PG_URL names a server.

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "scim/filter/bind.h"
#include "scim/store/resource_store.h"
#include "store/sql_util.h"
#include "store/sqlite_statement_cache.h"
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

  // A filtered list reads each User with its groups and manager's name in its page's statement:
  // the same resource as Get.
  const schema::ResourceType& user_type = *(*registry)->FindResourceType("User");
  auto listed_one = [&](const std::string& filter, const ReadOptions& read) {
    ListQuery query;
    query.filter = *filter::ParseAndBind(filter, **registry, user_type);
    query.read = read;
    auto page = store.List("default", "User", query);
    BOOST_TEST_REQUIRE(page.ok(), (page.ok() ? "" : page.error().detail));
    BOOST_TEST_REQUIRE(page->resources.size() == 1u);
    BOOST_TEST(page->total_results == 1);
    return std::move(page->resources.front());
  };
  for (bool with_groups : {true, false}) {
    ReadOptions read;
    read.include_groups = with_groups;
    json::Document listed = listed_one("userName eq \"WORKER\"", read);
    auto direct = store.Get("default", "User", user, read);
    BOOST_TEST_REQUIRE(direct.ok());
    BOOST_TEST(json::Serialize(listed) == json::Serialize(*direct));
    BOOST_TEST(listed.HasMember("groups") == with_groups);
  }
  BOOST_TEST(!listed_one("userName eq \"loner\"", {}).HasMember("groups"));

  // totalResults stays exact whether it is counted or read off a page that is not full
  // (RFC 7644 §3.4.2.4): 3 Users match.
  struct PageCase {
    int64_t start;
    int64_t count;
    size_t rows;
  };
  for (PageCase c : {PageCase{1, 100, 3}, PageCase{1, 2, 2}, PageCase{1, 3, 3}, PageCase{2, 2, 2},
                     PageCase{3, 2, 1}, PageCase{4, 2, 0}, PageCase{9, 5, 0}, PageCase{1, 0, 0}}) {
    ListQuery query;
    query.filter = *filter::ParseAndBind("userName pr", **registry, user_type);
    query.start_index = c.start;
    query.count = c.count;
    auto page = store.List("default", "User", query);
    BOOST_TEST_REQUIRE(page.ok());
    BOOST_TEST(page->total_results == 3, "startIndex " << c.start << " count " << c.count);
    BOOST_TEST(page->resources.size() == c.rows, "startIndex " << c.start << " count " << c.count);
  }
  ListQuery none;
  none.filter = *filter::ParseAndBind("userName eq \"nobody\"", **registry, user_type);
  auto empty = store.List("default", "User", none);
  BOOST_TEST_REQUIRE(empty.ok());
  BOOST_TEST(empty->total_results == 0);
  BOOST_TEST(empty->resources.empty());

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

// Filtered lists run as prepared statements cached per connection by SQL text: prepared the second
// time a text is seen, kept across values, prepared again after the server dropped it, and
// bypassed inside a transaction.
void FilteredListsPrepared() {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ScratchDatabase scratch(true, "list_prepared");
  auto one = store::Database::Open(scratch.url(), 1);
  BOOST_TEST_REQUIRE(one.ok());
  ResourceStore store(*one, *registry);
  const schema::ResourceType& user_type = *(*registry)->FindResourceType("User");
  for (const char* name : {"ann", "bob", "cy"}) {
    Create(store, "User",
           std::string("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                       "\"userName\":\"") +
               name + "\"}");
  }
  auto cached = [&] {
    long long n = -1;
    BOOST_TEST_REQUIRE((*one)
                           ->WithSession([&](soci::session& s) -> Status {
                             s << "SELECT COUNT(*) FROM pg_prepared_statements WHERE name LIKE "
                                  "'scim_q%'",
                                 soci::into(n);
                             return OkStatus();
                           })
                           .ok());
    return n;
  };
  auto find = [&](const std::string& user_name) {
    ListQuery query;
    query.filter =
        *filter::ParseAndBind("userName eq \"" + user_name + "\"", **registry, user_type);
    auto page = store.List("default", "User", query);
    BOOST_TEST_REQUIRE(page.ok(), (page.ok() ? "" : page.error().detail));
    BOOST_TEST_REQUIRE(page->resources.size() == 1u);
    BOOST_TEST(std::string(page->resources[0]["userName"].GetString()) == user_name);
  };
  find("ann");
  BOOST_TEST(cached() == 0);  // seen once: a one-time query
  find("bob");
  BOOST_TEST(cached() == 1);
  for (int i = 0; i < 6; ++i) find(i % 2 ? "cy" : "ann");
  BOOST_TEST(cached() == 1);
  BOOST_TEST_REQUIRE((*one)
                         ->WithSession([](soci::session& s) -> Status {
                           s << "DEALLOCATE ALL";
                           return OkStatus();
                         })
                         .ok());
  find("bob");
  BOOST_TEST(cached() == 1);
  Status in_tx = store.InOneTransaction([&]() -> Status {
    find("cy");
    return OkStatus();
  });
  BOOST_TEST(in_tx.ok());
}

// SQLite compiles a read's statement once per connection: GETs and filtered lists of one shape
// reuse it whatever the values; every statement stays correct after a write changed the rows and
// the connection closes cleanly with the Database.
void SqliteStatementsCached() {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ScratchDatabase scratch(false, "sqlite_cached");
  auto one = store::Database::Open(scratch.url(), 1);
  BOOST_TEST_REQUIRE(one.ok());
  ResourceStore store(*one, *registry);
  const schema::ResourceType& user_type = *(*registry)->FindResourceType("User");
  std::vector<std::string> ids;
  for (const char* name : {"ann", "bob"}) {
    ids.push_back(
        Create(store, "User",
               std::string("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                           "\"userName\":\"") +
                   name + "\"}"));
  }
  auto cached = [&] {
    size_t n = 0;
    BOOST_TEST_REQUIRE((*one)
                           ->WithSession([&](soci::session& s) -> Status {
                             n = CachedSqliteStatementCount(s);
                             return OkStatus();
                           })
                           .ok());
    return n;
  };
  size_t before = cached();
  for (const std::string& id : ids) BOOST_TEST_REQUIRE(store.Get("default", "User", id, {}).ok());
  BOOST_TEST(cached() == before + 1);
  for (const char* name : {"ann", "bob", "nobody"}) {
    ListQuery query;
    query.filter =
        *filter::ParseAndBind(std::string("userName eq \"") + name + "\"", **registry, user_type);
    auto page = store.List("default", "User", query);
    BOOST_TEST_REQUIRE(page.ok());
    BOOST_TEST(page->total_results == (std::string(name) == "nobody" ? 0 : 1));
  }
  BOOST_TEST(cached() == before + 2);
  // A write in between: the cached read sees it.
  auto renamed =
      store.Modify(kCtx, "User", ids[0], std::nullopt, events::ChangeKind::kPatched,
                   [](json::Document& r, MembershipChange&, std::optional<std::string>&) -> Status {
                     r["userName"].SetString("ann2", r.GetAllocator());
                     return OkStatus();
                   },
                   {});
  BOOST_TEST_REQUIRE(renamed.ok());
  auto got = store.Get("default", "User", ids[0], {});
  BOOST_TEST_REQUIRE(got.ok());
  BOOST_TEST(std::string((*got)["userName"].GetString()) == "ann2");
  BOOST_TEST((store.Get("default", "User", "no-such-id", {}).error().code == ErrorCode::kNotFound));
}

// Counts the statements a session sends while it lives: on SQLite every statement that starts
// to run (sqlite3_trace_v2, SQLITE_TRACE_STMT), on PostgreSQL every Bind (a prepared or one-time
// parameterised statement) and Query (a simple query) message libpq sends (PQtrace). The
// session is the pool's only reader, so every read of the store goes through it.
class StatementCounter {
 public:
  StatementCounter(soci::session& s, bool postgres) : s_(s), postgres_(postgres) {
    if (postgres_) {
      trace_path_ = std::filesystem::temp_directory_path() /
                    ("scimd-pqtrace-" + std::to_string(::getpid()) + ".log");
      file_ = std::fopen(trace_path_.c_str(), "w");
      BOOST_TEST_REQUIRE(file_ != nullptr);
      PQtrace(Pg(), file_);
      PQsetTraceFlags(Pg(), PQTRACE_SUPPRESS_TIMESTAMPS);
    } else {
      sqlite_api::sqlite3_trace_v2(Lite(), SQLITE_TRACE_STMT, &StatementCounter::OnSqlite,
                                   &sqlite_count_);
    }
  }
  ~StatementCounter() {
    if (postgres_) {
      PQuntrace(Pg());
      std::fclose(file_);
      std::filesystem::remove(trace_path_);
    } else {
      sqlite_api::sqlite3_trace_v2(Lite(), 0, nullptr, nullptr);
    }
  }

  // Statements sent since the last call.
  int Take() {
    int n = 0;
    if (postgres_) {
      std::fflush(file_);
      std::ifstream in(trace_path_);
      std::string line;
      int seen = 0;
      while (std::getline(in, line)) {
        // "F\t<length>\tBind\t..." (frontend messages only)
        if (line.rfind("F\t", 0) != 0) continue;
        size_t tab = line.find('\t', 2);
        if (tab == std::string::npos) continue;
        std::string_view type = std::string_view(line).substr(tab + 1, 5);
        if (type.substr(0, 4) == "Bind" || type == "Query") ++seen;
      }
      n = seen - pg_seen_;
      pg_seen_ = seen;
    } else {
      n = sqlite_count_;
      sqlite_count_ = 0;
    }
    return n;
  }

 private:
  static int OnSqlite(unsigned, void* ctx, void*, void*) {
    ++*static_cast<int*>(ctx);
    return 0;
  }
  PGconn* Pg() { return static_cast<soci::postgresql_session_backend*>(s_.get_backend())->conn_; }
  sqlite_api::sqlite3* Lite() {
    return static_cast<soci::sqlite3_session_backend*>(s_.get_backend())->conn_;
  }

  soci::session& s_;
  bool postgres_;
  std::filesystem::path trace_path_;
  std::FILE* file_ = nullptr;
  int sqlite_count_ = 0;
  int pg_seen_ = 0;
};

// An unfiltered page of Users reads its rows, their groups and their managers' names in one
// statement (issue 12), plus the maintained count (resource_counts): 2 statements per page,
// at startIndex 1, at a deeper startIndex (the ids cut first), and by cursor (RFC 9865). Each
// listed User is what Get answers: groups with their displayName, manager.displayName.
void UnfilteredPagesInOneStatement(bool postgres) {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ScratchDatabase scratch(postgres, "unfiltered_page");
  auto one = store::Database::Open(scratch.url(), 1);  // one reader: the counter sees every read
  BOOST_TEST_REQUIRE(one.ok());
  ResourceStore store(*one, *registry);
  std::string boss = Create(store, "User",
                            "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                            "\"userName\":\"boss\",\"displayName\":\"The Boss\"}");
  std::vector<std::string> users{boss};
  for (int i = 0; i < 4; ++i) {
    users.push_back(Create(store, "User",
                           "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" +
                               std::string(kEnterprise) + "\"],\"userName\":\"worker" +
                               std::to_string(i) + "\",\"" + kEnterprise +
                               "\":{\"manager\":{\"value\":\"" + boss + "\"}}}"));
  }
  MembershipChange members;
  members.add.push_back({users[1], ""});
  members.add.push_back({users[3], ""});
  Create(store, "Group",
         "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"G1\"}",
         members);
  members.add.pop_back();
  Create(store, "Group",
         "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"G2\"}",
         members);
  std::sort(users.begin(), users.end());

  std::optional<StatementCounter> counter;
  BOOST_TEST_REQUIRE((*one)
                         ->WithSession([&](soci::session& s) -> Status {
                           counter.emplace(s, postgres);
                           return OkStatus();
                         })
                         .ok());
  auto list = [&](ListQuery query, const ReadOptions& read, const std::string& label) {
    query.read = read;
    counter->Take();
    auto page = store.List("default", "User", query);
    int statements = counter->Take();
    BOOST_TEST_REQUIRE(page.ok(), (page.ok() ? "" : page.error().detail));
    BOOST_TEST(page->total_results == 5, label);
    BOOST_TEST(statements <= 2, label << ": " << statements << " statements");
    for (const json::Document& listed : page->resources) {
      auto direct = store.Get("default", "User", listed["id"].GetString(), read);
      BOOST_TEST_REQUIRE(direct.ok());
      BOOST_TEST(json::Serialize(listed) == json::Serialize(*direct), label);
    }
    return std::move(*page);
  };
  for (bool with_groups : {true, false}) {
    ReadOptions read;
    read.include_groups = with_groups;
    std::string tag = with_groups ? " (groups)" : " (no groups)";
    ListQuery first;
    first.count = 100;
    ListPage all = list(first, read, "startIndex 1" + tag);
    BOOST_TEST_REQUIRE(all.resources.size() == 5u);
    for (size_t i = 0; i < users.size(); ++i) {
      BOOST_TEST(std::string(all.resources[i]["id"].GetString()) == users[i]);
    }
    const json::Document& worker = all.resources[users[0] == boss ? 1 : 0];
    BOOST_TEST(std::string(worker[kEnterprise]["manager"]["displayName"].GetString()) ==
               "The Boss");
    size_t in_groups = 0;
    for (const json::Document& u : all.resources) in_groups += u.HasMember("groups") ? 1 : 0;
    BOOST_TEST(in_groups == (with_groups ? 2u : 0u));
    ListQuery deep;
    deep.start_index = 3;
    deep.count = 2;
    ListPage middle = list(deep, read, "startIndex 3" + tag);
    BOOST_TEST_REQUIRE(middle.resources.size() == 2u);
    BOOST_TEST(std::string(middle.resources[0]["id"].GetString()) == users[2]);
    BOOST_TEST(std::string(middle.resources[1]["id"].GetString()) == users[3]);
    ListQuery by_cursor;
    by_cursor.count = 3;
    by_cursor.cursor = "";
    ListPage c1 = list(by_cursor, read, "cursor 1" + tag);
    BOOST_TEST_REQUIRE(c1.next_cursor.has_value());
    by_cursor.cursor = *c1.next_cursor;
    ListPage c2 = list(by_cursor, read, "cursor 2" + tag);
    BOOST_TEST_REQUIRE(c2.resources.size() == 2u);
    BOOST_TEST(std::string(c2.resources[1]["id"].GetString()) == users[4]);
  }
  counter.reset();
}

// SQLite: the writer's page cache (64 MiB at most) is handed back once writes have stopped for
// 2 s (database.cc, TrimIdleWriter), and fills again with the next writes. Measured on the
// writer's own connection from inside a write transaction (SQLITE_DBSTATUS_CACHE_USED).
void WriterCacheHandedBackWhenIdle() {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ScratchDatabase scratch(false, "writer_cache");
  ResourceStore store(scratch.db, *registry);
  auto cache_used = [&] {
    int used = -1, high = 0;
    BOOST_TEST_REQUIRE(scratch.db
                           ->InTransaction([&](soci::session& s) -> Status {
                             auto* backend =
                                 static_cast<soci::sqlite3_session_backend*>(s.get_backend());
                             sqlite_api::sqlite3_db_status(
                                 backend->conn_, SQLITE_DBSTATUS_CACHE_USED, &used, &high, 0);
                             return OkStatus();
                           })
                           .ok());
    return used;
  };
  auto write_users = [&](const std::string& prefix) {
    Status status = store.InOneTransaction([&]() -> Status {
      for (int i = 0; i < 1500; ++i) {
        Create(store, "User",
               "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"" +
                   prefix + std::to_string(i) + "\",\"title\":\"" + std::string(200, 'x') + "\"}");
      }
      return OkStatus();
    });
    BOOST_TEST_REQUIRE(status.ok());
  };
  write_users("a");
  int busy = cache_used();
  BOOST_TEST(busy > 1024 * 1024, "cache after writes: " << busy);
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));  // > 2 s idle + a 0.5 s check
  int idle = cache_used();
  BOOST_TEST(idle < busy / 4, "cache after 3 s idle: " << idle << " (busy: " << busy << ")");
  write_users("b");
  BOOST_TEST(cache_used() > 1024 * 1024);
}

BOOST_AUTO_TEST_SUITE(read_path)

BOOST_AUTO_TEST_CASE(read_path_on_sqlite) {
  RunAll(false);
  SqliteStatementsCached();
  UnfilteredPagesInOneStatement(false);
  WriterCacheHandedBackWhenIdle();
}

BOOST_AUTO_TEST_CASE(read_path_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  RunAll(true);
  PreparedStatementsRecover();
  FilteredListsPrepared();
  UnfilteredPagesInOneStatement(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
