// ResourceStore on a real SQLite file: every write commits its outbox event and audit entry in
// the same transaction, membership changes touch only their rows, and failures roll back.

#include "scim/store/resource_store.h"

#include <soci/soci.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

namespace scim::store {
namespace {

struct StoreFixture {
  StoreFixture() {
    path = std::filesystem::temp_directory_path() /
           ("scimd-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".db");
    auto opened = Database::Open("sqlite:" + path.string(), 2);
    BOOST_REQUIRE(opened.ok());
    db = *opened;
    BOOST_REQUIRE(db->Migrate().ok());
    auto loaded = schema::Registry::LoadEmbedded();
    BOOST_REQUIRE(loaded.ok());
    registry = *loaded;
    store = std::make_unique<ResourceStore>(db, registry);
  }
  ~StoreFixture() {
    store.reset();
    db.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  }

  json::Document Doc(const char* text) {
    json::Document d;
    BOOST_REQUIRE(json::Parse(text, d).ok());
    return d;
  }
  std::string CreateUser(const std::string& user_name) {
    auto created =
        store->Create(ctx, "User",
                      Doc(("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                           "\"userName\":\"" +
                           user_name + "\"}")
                              .c_str()),
                      {}, std::nullopt);
    BOOST_REQUIRE(created.ok());
    return (*created)["id"].GetString();
  }
  long long Count(const std::string& sql) {
    long long n = -1;
    BOOST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                      s << sql, soci::into(n);
                      return OkStatus();
                    }).ok());
    return n;
  }

  static inline int counter = 0;
  std::filesystem::path path;
  std::shared_ptr<Database> db;
  std::shared_ptr<const schema::Registry> registry;
  std::unique_ptr<ResourceStore> store;
  WriteContext ctx{"default", "tester"};
};

BOOST_FIXTURE_TEST_SUITE(resource_store, StoreFixture)

BOOST_AUTO_TEST_CASE(create_records_outbox_and_audit_in_one_transaction) {
  std::string id = CreateUser("bjensen");
  BOOST_TEST(Count("SELECT COUNT(*) FROM outbox WHERE resource_id = '" + id +
                   "' AND event = 'created'") == 1);
  BOOST_TEST(Count("SELECT COUNT(*) FROM audit_log WHERE resource_id = '" + id +
                   "' AND actor = 'tester'") == 1);
  auto got = store->Get("default", "User", id, {});
  BOOST_REQUIRE(got.ok());
  BOOST_TEST(std::string((*got)["meta"]["version"].GetString()) == "W/\"1\"");
}

BOOST_AUTO_TEST_CASE(duplicate_user_name_is_uniqueness_and_writes_nothing) {
  CreateUser("bjensen");
  auto dup = store->Create(
      ctx, "User",
      Doc(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"BJENSEN"})"), {},
      std::nullopt);
  BOOST_REQUIRE(!dup.ok());
  BOOST_TEST((dup.error().code == ErrorCode::kUniqueness));
  BOOST_TEST(Count("SELECT COUNT(*) FROM outbox") == 1);
  BOOST_TEST(Count("SELECT COUNT(*) FROM resources") == 1);
}

BOOST_AUTO_TEST_CASE(failed_mutation_rolls_back_everything) {
  std::string id = CreateUser("a");
  auto result =
      store->Modify(ctx, "User", id, std::nullopt, events::ChangeKind::kPatched,
                    [](json::Document&, MembershipChange&, std::optional<std::string>&) -> Status {
                      return Error(ErrorCode::kMutability, "no");
                    },
                    {});
  BOOST_TEST((result.error().code == ErrorCode::kMutability));
  BOOST_TEST(Count("SELECT COUNT(*) FROM outbox") == 1);
  BOOST_TEST(Count("SELECT version FROM resources WHERE id = '" + id + "'") == 1);
}

BOOST_AUTO_TEST_CASE(stale_version_is_precondition_failed) {
  std::string id = CreateUser("a");
  auto noop = [](json::Document& r, MembershipChange&, std::optional<std::string>&) -> Status {
    r.AddMember("displayName", "changed", r.GetAllocator());
    return OkStatus();
  };
  auto first = store->Modify(ctx, "User", id, 1, events::ChangeKind::kPatched, noop, {});
  BOOST_REQUIRE_MESSAGE(first.ok(), (first.ok() ? std::string() : first.error().detail));
  auto stale = store->Modify(ctx, "User", id, 1, events::ChangeKind::kPatched, noop, {});
  BOOST_TEST((stale.error().code == ErrorCode::kPreconditionFailed));
}

BOOST_AUTO_TEST_CASE(unchanged_resource_keeps_version_and_writes_no_event) {
  std::string id = CreateUser("a");
  auto same = store->Modify(
      ctx, "User", id, std::nullopt, events::ChangeKind::kPatched,
      [](json::Document&, MembershipChange&, std::optional<std::string>&) { return OkStatus(); },
      {});
  BOOST_REQUIRE(same.ok());
  BOOST_TEST(std::string((*same)["meta"]["version"].GetString()) == "W/\"1\"");
  BOOST_TEST(Count("SELECT COUNT(*) FROM outbox") == 1);
}

BOOST_AUTO_TEST_CASE(membership_changes_touch_rows_and_record_the_delta) {
  std::string u1 = CreateUser("u1"), u2 = CreateUser("u2");
  MembershipChange initial;
  initial.add = {{u1, ""}};
  auto group = store->Create(
      ctx, "Group",
      Doc(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G"})"),
      initial, std::nullopt);
  BOOST_REQUIRE(group.ok());
  std::string gid = (*group)["id"].GetString();
  BOOST_TEST((*group)["members"].Size() == 1u);
  auto swap = [&](json::Document&, MembershipChange& m, std::optional<std::string>&) -> Status {
    m.add = {{u2, ""}};
    m.remove = {u1};
    return OkStatus();
  };
  auto changed =
      store->Modify(ctx, "Group", gid, std::nullopt, events::ChangeKind::kPatched, swap, {});
  BOOST_REQUIRE_MESSAGE(changed.ok(), (changed.ok() ? std::string() : changed.error().detail));
  BOOST_TEST(std::string((*changed)["members"][0]["value"].GetString()) == u2);
  BOOST_TEST(std::string((*changed)["meta"]["version"].GetString()) == "W/\"2\"");
  std::string payload;
  BOOST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                    s << "SELECT payload FROM outbox WHERE event = 'patched'", soci::into(payload);
                    return OkStatus();
                  }).ok());
  BOOST_TEST(payload.find("\"added\":[{\"value\":\"" + u2 +
                          "\",\"type\":\"User\",\"role\":\"member\"}]") != std::string::npos);
  BOOST_TEST(payload.find("\"removed\":[{\"value\":\"" + u1 + "\"}]") != std::string::npos);
  auto user = store->Get("default", "User", u2, {});
  BOOST_TEST(std::string((*user)["groups"][0]["value"].GetString()) == gid);
}

BOOST_AUTO_TEST_CASE(unknown_member_is_invalid_value) {
  MembershipChange bad;
  bad.add = {{"no-such-id", ""}};
  auto group = store->Create(
      ctx, "Group",
      Doc(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G"})"), bad,
      std::nullopt);
  BOOST_TEST((group.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(Count("SELECT COUNT(*) FROM resources") == 0);
}

BOOST_AUTO_TEST_CASE(delete_removes_memberships_and_records_event) {
  std::string u1 = CreateUser("u1");
  MembershipChange initial;
  initial.add = {{u1, ""}};
  BOOST_REQUIRE(
      store
          ->Create(
              ctx, "Group",
              Doc(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G"})"),
              initial, std::nullopt)
          .ok());
  BOOST_REQUIRE(store->Delete(ctx, "User", u1, std::nullopt).ok());
  BOOST_TEST(Count("SELECT COUNT(*) FROM group_members") == 0);
  BOOST_TEST(Count("SELECT COUNT(*) FROM attr_values WHERE resource_id = '" + u1 + "'") == 0);
  BOOST_TEST(Count("SELECT COUNT(*) FROM outbox WHERE event = 'deleted'") == 1);
  BOOST_TEST((store->Get("default", "User", u1, {}).error().code == ErrorCode::kNotFound));
}

BOOST_AUTO_TEST_CASE(tenants_are_isolated) {
  std::string id = CreateUser("a");
  BOOST_TEST((store->Get("other", "User", id, {}).error().code == ErrorCode::kNotFound));
  WriteContext other{"other", "x"};
  auto same_name = store->Create(
      other, "User",
      Doc(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"})"), {},
      std::nullopt);
  BOOST_TEST(same_name.ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
