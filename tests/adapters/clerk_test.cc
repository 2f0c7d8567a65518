// The clerk adapter against tests/fakes/clerk_fake.py.
#include <boost/test/unit_test.hpp>

#include "fake_server.h"
#include "scim/events/reconcilable.h"

namespace scim::adapters {
namespace {

using events::ChangeKind;
using events::DeliveryStatus;
using testing::CountRequests;
using testing::FakeServer;
using testing::MakeEvent;
using testing::Payload;
using testing::Records;
using testing::Str;

FakeServer& Fake() {
  static FakeServer fake("clerk");
  return fake;
}

constexpr const char* kGroupUrn = "urn:scimd:params:scim:schemas:extension:2.0:Group";

struct ClerkFixture {
  ClerkFixture() {
    Fake().Reset();
    config.name = "clerk";
    config.type = "clerk";
    config.settings = {
        {"url", Fake().url() + "/v1"},     {"secret_key", "sk_test_clerk-fake-secret"},
        {"role_map.admin", "org:admin"},   {"timeout_ms", "5000"},
        {"requests_per_minute", "100000"}, {"max_rate_wait_ms", "0"}};
    adapter = testing::MakeAdapter(config);
  }

  // A context whose member lookups answer from `links` (SCIM id → Clerk user id).
  events::DeliveryContext Context(int64_t seq,
                                  std::optional<std::string> target_id = std::nullopt) {
    auto context = testing::Context("clerk", seq, std::move(target_id));
    context.attempt = 1;
    context.lookup_target_id = [this](const std::string& id) -> std::optional<std::string> {
      auto it = links.find(id);
      if (it == links.end()) return std::nullopt;
      return it->second;
    };
    return context;
  }

  events::DeliveryOutcome Deliver(ChangeKind kind, const std::string& type, const std::string& id,
                                  const std::string& payload, int64_t seq,
                                  std::optional<std::string> target_id = std::nullopt) {
    return adapter->Deliver(MakeEvent(kind, type, id, payload, seq),
                            Context(seq, std::move(target_id)));
  }

  // Delivers a created User with `role` and records its link.
  std::string CreateUser(const std::string& id, const std::string& role, int64_t seq) {
    auto outcome = Deliver(ChangeKind::kCreated, "User", id, Payload(User(id, role)), seq);
    BOOST_REQUIRE_MESSAGE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
    links[id] = outcome.target_id.value();
    return *outcome.target_id;
  }

  static std::string User(const std::string& id, const std::string& role, bool active = true,
                          const std::string& email = "") {
    return R"({"id":")" + id + R"(","userName":")" + id + R"(","active":)" +
           (active ? "true" : "false") + R"(,"name":{"givenName":"Ada","familyName":"Lovelace"},)" +
           R"("emails":[{"value":"other@example.com"},{"value":")" +
           (email.empty() ? id + "@example.com" : email) + R"(","primary":true}],)" +
           R"("roles":[{"value":")" + role + R"("}]})";
  }

  static std::string Org(const std::string& name, const std::string& kind = "organization") {
    return R"({"id":"g-org","displayName":")" + name + R"(",")" + kGroupUrn + R"(":{"kind":")" +
           kind + R"("}})";
  }

  json::Document State() {
    json::Document state;
    Fake().State(state);
    return state;
  }

  static const json::Value* UserById(const json::Document& state, const std::string& id) {
    for (const auto& u : Records(state, "users").GetArray()) {
      if (Str(u, "id") == id) return &u;
    }
    return nullptr;
  }

  static std::map<std::string, std::string> Memberships(const json::Document& state,
                                                        const std::string& org) {
    std::map<std::string, std::string> out;
    for (const auto& m : Records(state, "memberships").GetArray()) {
      if (Str(m, "organization_id") == org) out[Str(m, "user_id")] = Str(m, "role");
    }
    return out;
  }

  TargetConfig config;
  std::unique_ptr<events::TargetAdapter> adapter;
  std::map<std::string, std::string> links;
};

const char* kAddMembers =
    R"({"added":[{"value":"u-ada","type":"User","role":"admin"},{"value":"u-bob","type":"User","role":"member"}],"removed":[]})";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(clerk, ClerkFixture)

BOOST_AUTO_TEST_CASE(create_user_with_external_id_primary_email_and_names) {
  std::string id = CreateUser("u-ada", "admin", 1);
  auto state = State();
  const json::Value* user = UserById(state, id);
  BOOST_TEST_REQUIRE(user != nullptr);
  BOOST_TEST(Str(*user, "external_id") == "u-ada");
  BOOST_TEST(Str(*user, "first_name") == "Ada");
  BOOST_TEST(Str(*user, "last_name") == "Lovelace");
  BOOST_TEST_REQUIRE((*user)["email_addresses"].Size() == 1u);
  BOOST_TEST(Str((*user)["email_addresses"][0], "email_address") == "u-ada@example.com");
  BOOST_TEST(!(*user)["banned"].GetBool());
  const auto& request = testing::Requests(state)[0];
  BOOST_TEST(Str(request["headers"], "authorization") == "Bearer sk_test_clerk-fake-secret");
}

BOOST_AUTO_TEST_CASE(create_is_idempotent_by_external_id) {
  std::string first = CreateUser("u-ada", "admin", 1);
  // The link was lost (e.g. the answer never arrived): the next attempt finds the user.
  auto again = Deliver(ChangeKind::kCreated, "User", "u-ada", Payload(User("u-ada", "admin")), 1);
  BOOST_TEST_REQUIRE(again.status == DeliveryStatus::kDelivered, again.error);
  BOOST_TEST(again.target_id.value_or("") == first);
  BOOST_TEST(Records(State(), "users").Size() == 1u);
}

BOOST_AUTO_TEST_CASE(deactivation_bans_and_reactivation_unbans) {
  std::string id = CreateUser("u-ada", "admin", 1);
  auto off =
      Deliver(ChangeKind::kPatched, "User", "u-ada", Payload(User("u-ada", "admin", false)), 2, id);
  BOOST_TEST_REQUIRE(off.status == DeliveryStatus::kDelivered, off.error);
  BOOST_TEST((*UserById(State(), id))["banned"].GetBool());
  auto on = Deliver(ChangeKind::kPatched, "User", "u-ada", Payload(User("u-ada", "admin")), 3, id);
  BOOST_TEST_REQUIRE(on.status == DeliveryStatus::kDelivered, on.error);
  auto state = State();
  BOOST_TEST(!(*UserById(state, id))["banned"].GetBool());
  BOOST_TEST(CountRequests(state, "POST", "/v1/users/" + id + "/ban") == 1);
  BOOST_TEST(CountRequests(state, "POST", "/v1/users/" + id + "/unban") == 1);
}

BOOST_AUTO_TEST_CASE(email_change_replaces_the_address) {
  std::string id = CreateUser("u-ada", "admin", 1);
  auto changed = Deliver(ChangeKind::kPatched, "User", "u-ada",
                         Payload(User("u-ada", "admin", true, "ada@new.example")), 2, id);
  BOOST_TEST_REQUIRE(changed.status == DeliveryStatus::kDelivered, changed.error);
  auto state = State();
  const auto& emails = (*UserById(state, id))["email_addresses"];
  BOOST_TEST_REQUIRE(emails.Size() == 1u);
  BOOST_TEST(Str(emails[0], "email_address") == "ada@new.example");
}

BOOST_AUTO_TEST_CASE(delete_user_unlinks_and_404_counts_as_deleted) {
  std::string id = CreateUser("u-ada", "admin", 1);
  auto deleted = Deliver(ChangeKind::kDeleted, "User", "u-ada", "{}", 2, id);
  BOOST_TEST_REQUIRE(deleted.status == DeliveryStatus::kDelivered, deleted.error);
  BOOST_TEST(deleted.unlink);
  BOOST_TEST(Records(State(), "users").Size() == 0u);
  auto again = Deliver(ChangeKind::kDeleted, "User", "u-ada", "{}", 2, id);
  BOOST_TEST(again.status == DeliveryStatus::kDelivered);
  BOOST_TEST(again.unlink);
}

BOOST_AUTO_TEST_CASE(organization_with_mapped_roles) {
  std::string ada = CreateUser("u-ada", "admin", 1);
  std::string bob = CreateUser("u-bob", "member", 2);
  auto outcome =
      Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon"), kAddMembers), 3);
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  std::string org = outcome.target_id.value_or("");
  auto state = State();
  BOOST_TEST_REQUIRE(Records(state, "organizations").Size() == 1u);
  const auto& record = Records(state, "organizations")[0];
  BOOST_TEST(Str(record, "id") == org);
  BOOST_TEST(Str(record, "name") == "Lyon");
  BOOST_TEST(Str(record["private_metadata"], "scim_id") == "g-org");
  auto members = Memberships(state, org);
  BOOST_TEST(members.size() == 2u);
  BOOST_TEST(members[ada] == "org:admin");
  BOOST_TEST(members[bob] == "org:member");  // unmapped: the default
}

BOOST_AUTO_TEST_CASE(member_not_linked_yet_waits_and_keeps_the_organization_link) {
  CreateUser("u-ada", "admin", 1);
  auto outcome =
      Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon"), kAddMembers), 3);
  BOOST_TEST(outcome.status == DeliveryStatus::kRetry);
  BOOST_TEST(outcome.error.find("u-bob") != std::string::npos);
  BOOST_TEST_REQUIRE(outcome.target_id.has_value());
  CreateUser("u-bob", "member", 2);
  auto again = Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon"), kAddMembers), 3,
                       outcome.target_id);
  BOOST_TEST_REQUIRE(again.status == DeliveryStatus::kDelivered, again.error);
  auto state = State();
  BOOST_TEST(Records(state, "organizations").Size() == 1u);
  BOOST_TEST(Memberships(state, *outcome.target_id).size() == 2u);
}

BOOST_AUTO_TEST_CASE(retry_after_already_a_member_checks_and_succeeds) {
  std::string ada = CreateUser("u-ada", "admin", 1);
  std::string bob = CreateUser("u-bob", "member", 2);
  // The first membership is created but its answer is lost.
  Fake().Mode(
      R"({"mode":"fail_after_apply","count":1,"method":"POST","path_prefix":"/v1/organizations/"})");
  auto first =
      Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon"), kAddMembers), 3);
  BOOST_TEST(first.status == DeliveryStatus::kRetry);
  BOOST_TEST_REQUIRE(first.target_id.has_value());
  auto retry = Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon"), kAddMembers), 3,
                       first.target_id);
  BOOST_TEST_REQUIRE(retry.status == DeliveryStatus::kDelivered, retry.error);
  auto state = State();
  int already = 0;
  for (const auto& r : testing::Requests(state).GetArray()) {
    if (Str(r, "method") == "POST" && r["status"].IsInt() && r["status"].GetInt() == 400) ++already;
  }
  BOOST_TEST(already == 1);
  auto members = Memberships(state, *first.target_id);
  BOOST_TEST(members[ada] == "org:admin");
  BOOST_TEST(members[bob] == "org:member");
}

BOOST_AUTO_TEST_CASE(organization_create_retry_finds_the_first_one) {
  Fake().Mode(
      R"({"mode":"fail_after_apply","count":1,"method":"POST","path_prefix":"/v1/organizations"})");
  auto first = Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon")), 3);
  BOOST_TEST(first.status == DeliveryStatus::kRetry);
  auto event = MakeEvent(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon")), 3);
  auto context = Context(3);
  context.attempt = 2;
  auto retry = adapter->Deliver(event, context);
  BOOST_TEST_REQUIRE(retry.status == DeliveryStatus::kDelivered, retry.error);
  auto state = State();
  BOOST_TEST_REQUIRE(Records(state, "organizations").Size() == 1u);
  BOOST_TEST(retry.target_id.value_or("") == Str(Records(state, "organizations")[0], "id"));
}

BOOST_AUTO_TEST_CASE(member_removal_replacement_and_role_change) {
  std::string ada = CreateUser("u-ada", "admin", 1);
  std::string bob = CreateUser("u-bob", "member", 2);
  auto created =
      Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon"), kAddMembers), 3);
  std::string org = created.target_id.value_or("");
  // Bob becomes an admin: his User change re-PATCHes his membership.
  auto promoted =
      Deliver(ChangeKind::kPatched, "User", "u-bob", Payload(User("u-bob", "Admin")), 4, bob);
  BOOST_TEST_REQUIRE(promoted.status == DeliveryStatus::kDelivered, promoted.error);
  BOOST_TEST(Memberships(State(), org)[bob] == "org:admin");
  // Ada leaves.
  auto removed =
      Deliver(ChangeKind::kPatched, "Group", "g-org",
              Payload(Org("Lyon 2"), R"({"added":[],"removed":[{"value":"u-ada"}]})"), 5, org);
  BOOST_TEST_REQUIRE(removed.status == DeliveryStatus::kDelivered, removed.error);
  auto state = State();
  BOOST_TEST(Memberships(state, org).size() == 1u);
  BOOST_TEST(Str(Records(state, "organizations")[0], "name") == "Lyon 2");
  // A replaced list of only Ada drops Bob.
  auto replaced =
      Deliver(ChangeKind::kReplaced, "Group", "g-org",
              Payload(Org("Lyon 2"),
                      R"({"replaced":true,"added":[{"value":"u-ada","role":"x"}],"removed":[]})"),
              6, org);
  BOOST_TEST_REQUIRE(replaced.status == DeliveryStatus::kDelivered, replaced.error);
  auto members = Memberships(State(), org);
  BOOST_TEST(members.size() == 1u);
  BOOST_TEST(members[ada] == "org:member");
}

BOOST_AUTO_TEST_CASE(plain_groups_are_not_sent_and_a_former_organization_is_deleted) {
  auto plain = Deliver(ChangeKind::kCreated, "Group", "g-plain", Payload(Org("Plain", "none")), 1);
  BOOST_TEST(plain.status == DeliveryStatus::kDelivered);
  BOOST_TEST(!plain.target_id.has_value());
  auto store = Deliver(ChangeKind::kCreated, "Group", "g-store", Payload(Org("Store", "store")), 2);
  BOOST_TEST(!store.target_id.has_value());
  BOOST_TEST(testing::Requests(State()).Size() == 0u);
  auto org = Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon")), 3);
  auto demoted = Deliver(ChangeKind::kPatched, "Group", "g-org", Payload(Org("Lyon", "store")), 4,
                         org.target_id);
  BOOST_TEST(demoted.unlink);
  BOOST_TEST(Records(State(), "organizations").Size() == 0u);
}

BOOST_AUTO_TEST_CASE(failures_map_to_retry_or_failed) {
  Fake().Mode(R"({"mode":"ratelimit","count":1,"retry_after":7})");
  auto limited = Deliver(ChangeKind::kCreated, "User", "u-ada", Payload(User("u-ada", "admin")), 1);
  BOOST_TEST(limited.status == DeliveryStatus::kRetry);
  BOOST_TEST(limited.rate_limited);
  BOOST_TEST(limited.retry_after_seconds.value_or(0) == 7);
  adapter = testing::MakeAdapter(config);  // a fresh client-side limiter, not paused by the 429
  Fake().Mode(R"({"mode":"error500","count":1})");
  auto down = Deliver(ChangeKind::kCreated, "User", "u-ada", Payload(User("u-ada", "admin")), 1);
  BOOST_TEST(down.status == DeliveryStatus::kRetry);
  BOOST_TEST(down.error.find("500") != std::string::npos);
  // Another user already holds the e-mail: Clerk refuses (422), which no retry fixes.
  CreateUser("u-ada", "admin", 1);
  auto taken = Deliver(ChangeKind::kCreated, "User", "u-eve",
                       Payload(User("u-eve", "admin", true, "u-ada@example.com")), 2);
  BOOST_TEST(taken.status == DeliveryStatus::kFailed);
  BOOST_TEST(taken.error.find("form_identifier_exists") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(config_errors_name_the_key) {
  TargetConfig bad = config;
  bad.settings.erase("secret_key");
  auto missing = DefaultAdapterRegistry().Create(bad);
  BOOST_TEST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().detail.find("secret_key") != std::string::npos);
  bad = config;
  bad.settings["url"] = "ftp://x";
  auto url = DefaultAdapterRegistry().Create(bad);
  BOOST_TEST_REQUIRE(!url.ok());
  BOOST_TEST(url.error().detail.find("url") != std::string::npos);
  bad = config;
  bad.settings["requests_per_minute"] = "0";
  auto rpm = DefaultAdapterRegistry().Create(bad);
  BOOST_TEST_REQUIRE(!rpm.ok());
  BOOST_TEST(rpm.error().detail.find("requests_per_minute") != std::string::npos);
  bad = config;
  bad.settings.erase("url");  // the default, Clerk's own API
  BOOST_TEST(DefaultAdapterRegistry().Create(bad).ok());
}

BOOST_AUTO_TEST_CASE(inventory_lists_users_and_organizations) {
  std::string ada = CreateUser("u-ada", "admin", 1);
  auto org = Deliver(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Lyon")), 2);
  auto* reconcilable = adapter->AsReconcilable();
  BOOST_TEST_REQUIRE(reconcilable != nullptr);
  auto inventory = reconcilable->Inventory({});
  BOOST_TEST_REQUIRE(inventory.ok());
  BOOST_TEST(inventory->complete);
  BOOST_TEST_REQUIRE(inventory->records.size() == 2u);
  BOOST_TEST(inventory->records[0].target_id == ada);
  BOOST_TEST(inventory->records[0].scim_id == "u-ada");
  BOOST_TEST(inventory->records[0].natural_key == "u-ada@example.com");
  BOOST_TEST(inventory->records[1].target_id == org.target_id.value_or(""));
  BOOST_TEST(inventory->records[1].scim_id == "g-org");
  auto plain = reconcilable->Expect(
      MakeEvent(ChangeKind::kCreated, "Group", "g-p", Payload(Org("P", "store")), 1));
  BOOST_TEST(!plain.should_exist);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::adapters
