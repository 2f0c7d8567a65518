// ResourceStore::InOneTransaction (what /Bulk runs its operations in): the audit entries, outbox
// events and resource counts of its writes wait in a ChangeBuffer and are written once before
// COMMIT (change_buffer.h). What a failed operation (its savepoint rolled back) or a failed nested
// transaction recorded goes with it; the rest is written in the order it was recorded; a failed
// outer transaction leaves nothing. On SQLite and on PostgreSQL (when SCIMD_TEST_PG_URL names a
// server).

#include <algorithm>
#include <boost/test/unit_test.hpp>
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

json::Document UserDoc(const std::string& user_name, const std::string& department) {
  json::Document d;
  std::string text =
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"" + user_name +
      "\",\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"department\":\"" +
      department + "\"}}";
  BOOST_REQUIRE(json::Parse(text, d).ok());
  return d;
}

long long Count(Database& db, const std::string& sql) {
  long long n = -1;
  BOOST_REQUIRE(db.WithSession([&](soci::session& s) -> Status {
                    soci::row r;
                    s << sql, soci::into(r);
                    n = IntegerAt(r, 0);
                    return OkStatus();
                  }).ok());
  return n;
}

// "event resource_id" of every outbox row, in seq order.
std::vector<std::string> OutboxEvents(Database& db) {
  std::vector<std::string> events;
  BOOST_REQUIRE(db.WithSession([&](soci::session& s) -> Status {
                    soci::rowset<soci::row> rows =
                        (s.prepare << "SELECT event, resource_id FROM outbox ORDER BY seq");
                    for (const soci::row& r : rows) {
                      events.push_back(r.get<std::string>(0) + " " + r.get<std::string>(1));
                    }
                    return OkStatus();
                  }).ok());
  return events;
}

void BufferedRowsFollowTheirOperations(ScratchDatabase& scratch) {
  Database& db = *scratch.db;
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_REQUIRE(registry.ok());
  ResourceStore store(scratch.db, *registry);
  WriteContext ctx{"default", "hr"};
  auto create = [&](const std::string& name) {
    return store.Create(ctx, "User", UserDoc(name, "Sales"), {}, std::nullopt);
  };
  auto department = [&](const std::string& id, const std::string& value,
                        bool fail) -> Result<json::Document> {
    return store.Modify(
        ctx, "User", id, std::nullopt, events::ChangeKind::kReplaced,
        [&](json::Document& resource, MembershipChange&, std::optional<std::string>&) -> Status {
          resource["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"]
              .SetString(value.c_str(), static_cast<rapidjson::SizeType>(value.size()),
                         resource.GetAllocator());
          if (fail) return Error(ErrorCode::kInvalidValue, "refused");
          return OkStatus();
        },
        {});
  };
  std::string a, b;
  Status bulk = store.InOneTransaction([&]() -> Status {
    auto first = create("a@hr.example.com");
    BOOST_REQUIRE(first.ok());
    a = (*first)["id"].GetString();
    auto twin = create("A@HR.example.com");  // uniqueness: its savepoint is rolled back
    BOOST_TEST((!twin.ok() && twin.error().code == ErrorCode::kUniqueness));
    auto second = create("b@hr.example.com");
    BOOST_REQUIRE(second.ok());
    b = (*second)["id"].GetString();
    BOOST_TEST(!department(a, "Legal", true).ok());  // the mutator fails: nothing recorded
    BOOST_TEST(department(b, "Finance", false).ok());
    // A nested transaction that fails (a /Bulk circle that could not be linked) takes its
    // operations' buffered rows with it.
    Status circle = store.InOneTransaction([&]() -> Status {
      BOOST_TEST(create("c@hr.example.com").ok());
      return Error(ErrorCode::kConflict, "circle");
    });
    BOOST_TEST(!circle.ok());
    // Reads inside the transaction see its rows (the buffered ones are not read back).
    BOOST_TEST(store.Get("default", "User", b, {}).ok());
    return OkStatus();
  });
  BOOST_REQUIRE(bulk.ok());
  std::vector<std::string> expected{"created " + a, "created " + b, "replaced " + b};
  BOOST_TEST(OutboxEvents(db) == expected, boost::test_tools::per_element());
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM audit_log") == 3);
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM audit_log WHERE resource_id = '" + b +
                           "' AND action = 'replace' AND actor = 'hr'") == 1);
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM resources") == 2);
  BOOST_TEST(Count(db, "SELECT CAST(SUM(n) AS BIGINT) FROM resource_counts") == 2);
  BOOST_TEST(store.List("default", "User", ListQuery{})->total_results == 2);

  // An outer transaction that fails leaves nothing, buffered or not.
  Status failed = store.InOneTransaction([&]() -> Status {
    BOOST_TEST(create("d@hr.example.com").ok());
    BOOST_TEST(department(a, "Support", false).ok());
    return Error(ErrorCode::kUnavailable, "gone");
  });
  BOOST_TEST(!failed.ok());
  BOOST_TEST(OutboxEvents(db).size() == 3u);
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM audit_log") == 3);
  BOOST_TEST(Count(db, "SELECT CAST(SUM(n) AS BIGINT) FROM resource_counts") == 2);

  // A single write outside InOneTransaction records at once, as before.
  auto alone = create("e@hr.example.com");
  BOOST_REQUIRE(alone.ok());
  BOOST_TEST(OutboxEvents(db).back() == "created " + std::string((*alone)["id"].GetString()));
  BOOST_TEST(Count(db, "SELECT CAST(SUM(n) AS BIGINT) FROM resource_counts") == 3);
}

// More rows than one Bulk request of 1,000 operations, in order (PostgreSQL: one INSERT of
// unnested arrays, change_buffer.cc).
void ManyOperationsKeepTheirOrder(ScratchDatabase& scratch) {
  Database& db = *scratch.db;
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_REQUIRE(registry.ok());
  ResourceStore store(scratch.db, *registry);
  WriteContext ctx{"default", "hr", "10.0.0.1", "req-1"};
  std::vector<std::string> expected;
  Status bulk = store.InOneTransaction([&]() -> Status {
    for (int i = 0; i < 1100; ++i) {
      auto created =
          store.Create(ctx, "User", UserDoc("u" + std::to_string(i), "Sales"), {}, std::nullopt);
      BOOST_REQUIRE(created.ok());
      expected.push_back("created " + std::string((*created)["id"].GetString()));
    }
    return OkStatus();
  });
  BOOST_REQUIRE(bulk.ok());
  BOOST_TEST(OutboxEvents(db) == expected, boost::test_tools::per_element());
  BOOST_TEST(Count(db,
                   "SELECT COUNT(*) FROM audit_log WHERE client = '10.0.0.1' AND request_id = "
                   "'req-1' AND changes IS NOT NULL") == 1100);
  BOOST_TEST(Count(db, "SELECT CAST(SUM(n) AS BIGINT) FROM resource_counts") == 1100);
}

// The buffered rows reach the tables byte for byte: on PostgreSQL they travel as text array
// literals (change_buffer.cc), so quotes, backslashes, braces, commas, the word NULL and
// non-ASCII text must come back as written, and an empty client or request id as NULL.
std::string Text(Database& db, const std::string& sql) {
  std::string out;
  BOOST_REQUIRE(db.WithSession([&](soci::session& s) -> Status {
                    soci::indicator ind = soci::i_ok;
                    s << sql, soci::into(out, ind);
                    if (ind != soci::i_ok) out = "<NULL>";
                    return OkStatus();
                  }).ok());
  return out;
}

void ValuesTravelVerbatim(ScratchDatabase& scratch) {
  Database& db = *scratch.db;
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_REQUIRE(registry.ok());
  ResourceStore store(scratch.db, *registry);
  WriteContext quoted{"default", "hr \"x\" \\ {a,b}", "", "req \"1\", {NULL}"};
  WriteContext plain{"default", "NULL", "10.0.0.2", ""};
  const std::vector<std::string> names{"q\\\"{x},NULL@hr.example.com", "NULL",
                                       "J\u00fcrgen \u00e9\u00e8 {}\\@hr.example.com"};
  std::vector<std::string> ids;
  Status bulk = store.InOneTransaction([&]() -> Status {
    for (size_t i = 0; i < names.size(); ++i) {
      json::Document doc = UserDoc("x", "Sales");
      doc["userName"].SetString(names[i].c_str(), static_cast<rapidjson::SizeType>(names[i].size()),
                                doc.GetAllocator());
      auto created =
          store.Create(i == 1 ? plain : quoted, "User", std::move(doc), {}, std::nullopt);
      BOOST_REQUIRE(created.ok());
      ids.push_back((*created)["id"].GetString());
    }
    return OkStatus();
  });
  BOOST_REQUIRE(bulk.ok());
  for (size_t i = 0; i < names.size(); ++i) {
    std::string where = " WHERE resource_id = '" + ids[i] + "'";
    std::string payload = Text(db, "SELECT payload FROM outbox" + where);
    json::Document parsed;
    BOOST_REQUIRE(json::Parse(payload, parsed).ok());
    BOOST_TEST(std::string(parsed["resource"]["userName"].GetString()) == names[i]);
    BOOST_TEST(Text(db, "SELECT actor FROM audit_log" + where) == (i == 1 ? "NULL" : quoted.actor));
    BOOST_TEST(Text(db, "SELECT client FROM audit_log" + where) ==
               (i == 1 ? std::string("10.0.0.2") : std::string("<NULL>")));
    BOOST_TEST(Text(db, "SELECT request_id FROM audit_log" + where) ==
               (i == 1 ? std::string("<NULL>") : quoted.request_id));
    BOOST_TEST(Count(db, "SELECT version FROM outbox" + where) == 1);
  }
}

// An HR re-run: a Bulk of replaces that each change one attribute (row_writes.cc rewrites only
// the attr_values rows that changed). Afterwards every filter sees the new values and none the
// old, the unchanged values still match, and each user keeps one row per value.
void ReplacesKeepFiltersRight(ScratchDatabase& scratch) {
  Database& db = *scratch.db;
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_REQUIRE(registry.ok());
  ResourceStore store(scratch.db, *registry);
  const schema::ResourceType& user_type = *(*registry)->FindResourceType("User");
  WriteContext ctx{"default", "hr"};
  const std::string enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  auto user = [&](int i, const std::string& department, const std::string& email) {
    json::Document d;
    std::string text =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
        "\"userName\":\"u" +
        std::to_string(i) + "\",\"emails\":[{\"value\":\"" + email + "\",\"type\":\"work\"}],\"" +
        enterprise + "\":{\"employeeNumber\":\"E" + std::to_string(i) + "\",\"department\":\"" +
        department + "\"}}";
    BOOST_REQUIRE(json::Parse(text, d).ok());
    return d;
  };
  std::vector<std::string> ids;
  BOOST_REQUIRE(store
                    .InOneTransaction([&]() -> Status {
                      for (int i = 0; i < 3; ++i) {
                        auto created = store.Create(
                            ctx, "User", user(i, "Sales", "u" + std::to_string(i) + "@old.example"),
                            {}, std::nullopt);
                        BOOST_REQUIRE(created.ok());
                        ids.push_back((*created)["id"].GetString());
                      }
                      return OkStatus();
                    })
                    .ok());
  long long rows_before = Count(db, "SELECT COUNT(*) FROM attr_values");
  // User 0 changes department, user 1 its e-mail, user 2 nothing.
  BOOST_REQUIRE(store
                    .InOneTransaction([&]() -> Status {
                      for (int i = 0; i < 3; ++i) {
                        json::Document next = user(
                            i, i == 0 ? "Finance" : "Sales",
                            "u" + std::to_string(i) + (i == 1 ? "@new.example" : "@old.example"));
                        auto replaced = store.Modify(
                            ctx, "User", ids[i], std::nullopt, events::ChangeKind::kReplaced,
                            [&](json::Document& resource, MembershipChange&,
                                std::optional<std::string>&) -> Status {
                              resource.CopyFrom(next, resource.GetAllocator());
                              resource.AddMember("id",
                                                 json::String(ids[i], resource.GetAllocator()),
                                                 resource.GetAllocator());
                              return OkStatus();
                            },
                            {});
                        BOOST_REQUIRE(replaced.ok());
                      }
                      return OkStatus();
                    })
                    .ok());
  auto matches = [&](const std::string& text) {
    ListQuery query;
    auto bound = filter::ParseAndBind(text, **registry, user_type);
    BOOST_REQUIRE(bound.ok());
    query.filter = std::move(*bound);
    auto page = store.List("default", "User", query);
    BOOST_REQUIRE(page.ok());
    std::vector<std::string> found;
    for (const json::Document& r : page->resources) found.push_back(r["id"].GetString());
    std::sort(found.begin(), found.end());
    return found;
  };
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::string dept = enterprise + ":department";
  BOOST_TEST(matches(dept + " eq \"Finance\"") == std::vector<std::string>{ids[0]},
             boost::test_tools::per_element());
  BOOST_TEST(matches(dept + " eq \"Sales\"") == sorted({ids[1], ids[2]}),
             boost::test_tools::per_element());
  BOOST_TEST(matches("emails.value co \"@new.\"") == std::vector<std::string>{ids[1]},
             boost::test_tools::per_element());
  BOOST_TEST(matches("emails.value eq \"u1@old.example\"").empty());
  BOOST_TEST(matches("emails.value ew \"@old.example\"") == sorted({ids[0], ids[2]}),
             boost::test_tools::per_element());
  BOOST_TEST(matches("emails.type eq \"work\" and " + enterprise + ":employeeNumber eq \"E0\"") ==
                 std::vector<std::string>{ids[0]},
             boost::test_tools::per_element());
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM attr_values") == rows_before);
}

// InOneTransaction without savepoints (what /Bulk tries first): writes that all succeed commit
// as with savepoints; the first that fails dooms the transaction, which rolls back whole and
// returns that failure although `work` returned ok. A failure that is no SQL error (a refusing
// mutator) dooms it too.
void AllOrNothingWithoutSavepoints(ScratchDatabase& scratch, bool postgres) {
  Database& db = *scratch.db;
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_REQUIRE(registry.ok());
  ResourceStore store(scratch.db, *registry);
  WriteContext ctx{"default", "hr"};
  auto create = [&](const std::string& name) {
    return store.Create(ctx, "User", UserDoc(name, "Sales"), {}, std::nullopt);
  };
  std::vector<std::string> expected;
  Status ok = store.InOneTransaction(
      [&]() -> Status {
        for (const char* name : {"a@hr.example.com", "b@hr.example.com"}) {
          auto created = create(name);
          BOOST_REQUIRE(created.ok());
          expected.push_back("created " + std::string((*created)["id"].GetString()));
        }
        return OkStatus();
      },
      false);
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(OutboxEvents(db) == expected, boost::test_tools::per_element());
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM audit_log") == 2);

  Status doomed = store.InOneTransaction(
      [&]() -> Status {
        BOOST_TEST(create("c@hr.example.com").ok());
        auto twin = create("A@HR.example.com");  // uniqueness: no savepoint to roll back to
        BOOST_TEST((!twin.ok() && twin.error().code == ErrorCode::kUniqueness));
        auto after = create("d@hr.example.com");
        // PostgreSQL: the failed statement aborted the transaction (there was no savepoint).
        if (postgres) BOOST_TEST(!after.ok());
        return OkStatus();
      },
      false);
  BOOST_TEST((!doomed.ok() && doomed.error().code == ErrorCode::kUniqueness));
  Status refused = store.InOneTransaction(
      [&]() -> Status {
        BOOST_TEST(create("e@hr.example.com").ok());
        auto modified = store.Modify(
            ctx, "User", expected.size() > 0 ? expected[0].substr(8) : "", std::nullopt,
            events::ChangeKind::kReplaced,
            [](json::Document&, MembershipChange&, std::optional<std::string>&) -> Status {
              return Error(ErrorCode::kInvalidValue, "refused");
            },
            {});
        BOOST_TEST(!modified.ok());
        return OkStatus();
      },
      false);
  BOOST_TEST((!refused.ok() && refused.error().code == ErrorCode::kInvalidValue));
  // Nothing of either doomed transaction remains: rows, outbox, audit, counts.
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM resources") == 2);
  BOOST_TEST(OutboxEvents(db) == expected, boost::test_tools::per_element());
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM audit_log") == 2);
  BOOST_TEST(Count(db, "SELECT CAST(SUM(n) AS BIGINT) FROM resource_counts") == 2);
  // The same failure with savepoints (the default) fails alone.
  Status alone = store.InOneTransaction([&]() -> Status {
    BOOST_TEST(create("c@hr.example.com").ok());
    BOOST_TEST(!create("A@HR.example.com").ok());
    BOOST_TEST(create("d@hr.example.com").ok());
    return OkStatus();
  });
  BOOST_TEST(alone.ok());
  BOOST_TEST(Count(db, "SELECT COUNT(*) FROM resources") == 4);
}

void RunAll(bool postgres) {
  {
    ScratchDatabase scratch(postgres, "bulktx3");
    AllOrNothingWithoutSavepoints(scratch, postgres);
  }
  {
    ScratchDatabase scratch(postgres, "bulktx1");
    BufferedRowsFollowTheirOperations(scratch);
  }
  {
    ScratchDatabase scratch(postgres, "bulktx2");
    ManyOperationsKeepTheirOrder(scratch);
  }
  {
    ScratchDatabase scratch(postgres, "bulktx4");
    ValuesTravelVerbatim(scratch);
  }
  {
    ScratchDatabase scratch(postgres, "bulktx5");
    ReplacesKeepFiltersRight(scratch);
  }
}

BOOST_AUTO_TEST_SUITE(bulk_transaction)

BOOST_AUTO_TEST_CASE(bulk_transaction_on_sqlite) { RunAll(false); }

BOOST_AUTO_TEST_CASE(bulk_transaction_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  RunAll(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
