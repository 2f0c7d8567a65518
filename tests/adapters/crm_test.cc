// The crm adapter against tests/fakes/crm_fake.py.
#include <boost/test/unit_test.hpp>

#include "adapters/crm/crm_client.h"
#include "fake_server.h"

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
  static FakeServer fake("crm");
  return fake;
}

constexpr const char* kGroupUrn = "urn:scimd:params:scim:schemas:extension:2.0:Group";

struct CrmFixture {
  CrmFixture() {
    Fake().Reset();
    config.name = "crm";
    config.type = "crm";
    // max_rate_wait_ms 0: a call finding no slot in the client-side budget answers at once.
    config.settings = {{"url", Fake().url()},
                       {"token", "crm-test-token"},
                       {"timeout_ms", "5000"},
                       {"requests_per_minute", "100000"},
                       {"max_rate_wait_ms", "0"}};
    adapter = testing::MakeAdapter(config);
  }

  // A context whose member lookups answer from `links` (SCIM id → CRM user id).
  events::DeliveryContext Context(int64_t seq,
                                  std::optional<std::string> target_id = std::nullopt) {
    auto context = testing::Context("crm", seq, std::move(target_id));
    context.lookup_target_id = [this](const std::string& id) -> std::optional<std::string> {
      auto it = links.find(id);
      if (it == links.end()) return std::nullopt;
      return it->second;
    };
    return context;
  }

  // Delivers a created User and records its link.
  std::string CreateUser(const std::string& id, const std::string& email, int64_t seq) {
    std::string user = R"({"id":")" + id + R"(","userName":")" + id + R"(","emails":[{"value":")" +
                       email + R"("}]})";
    auto outcome = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "User", id, Payload(user), seq),
                                    Context(seq));
    BOOST_REQUIRE_MESSAGE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
    links[id] = outcome.target_id.value();
    return *outcome.target_id;
  }

  const json::Value* UserById(const json::Document& state, const std::string& id) {
    for (const auto& u : Records(state, "users").GetArray()) {
      if (Str(u, "id") == id) return &u;
    }
    return nullptr;
  }

  std::map<std::string, std::string> Memberships(const json::Document& state,
                                                 const std::string& org) {
    std::map<std::string, std::string> out;
    for (const auto& m : Records(state, "memberships").GetArray()) {
      if (Str(m, "organizationId") == org) out[Str(m, "userId")] = Str(m, "role");
    }
    return out;
  }

  TargetConfig config;
  std::unique_ptr<events::TargetAdapter> adapter;
  std::map<std::string, std::string> links;
};

const char* kLinus = R"({"id":"u-linus","userName":"linus","displayName":"Linus T",
  "active":true,"emails":[{"value":"linus@example.com","primary":true}],
  "roles":[{"value":"staff"},{"value":"manager","primary":true}]})";

std::string Org(const std::string& name) {
  return std::string(R"({"id":"g-org","displayName":")") + name + R"(",")" + kGroupUrn +
         R"(":{"kind":"organization"}})";
}

std::string Store(const std::string& name, const std::string& kind = "store") {
  return std::string(R"({"id":"g-store","displayName":")") + name + R"(",")" + kGroupUrn +
         R"(":{"kind":")" + kind +
         R"(","location":"Berlin Mitte","address":{"streetAddress":"Unter den Linden 1","locality":"Berlin"},"phone":"+49 30 1234"}})";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(crm, CrmFixture)

BOOST_AUTO_TEST_CASE(create_user_with_external_ids_and_idempotency_key) {
  auto context = Context(7);
  context.linked_ids = {{"dolibarr", "42"}, {"zoho", "982000000554041"}, {"crm", "ignored"}};
  auto outcome = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 7), context);
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  BOOST_TEST(outcome.target_id.value_or("") == "crm_u_1");

  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "users").Size() == 1u);
  const auto& user = Records(state, "users")[0];
  BOOST_TEST(Str(user, "email") == "linus@example.com");
  BOOST_TEST(Str(user, "name") == "Linus T");
  BOOST_TEST(Str(user, "role") == "manager");  // the primary SCIM role is a CRM role
  BOOST_TEST(user["active"].GetBool());
  const auto& ids = user["externalIds"];
  BOOST_TEST(ids.MemberCount() == 3u);
  BOOST_TEST(Str(ids, "scim") == "u-linus");
  BOOST_TEST(Str(ids, "dolibarr") == "42");
  BOOST_TEST(Str(ids, "zoho") == "982000000554041");
  // The POST carried the delivery's idempotency key (made unique per resource).
  for (const auto& r : testing::Requests(state).GetArray()) {
    if (Str(r, "method") == "POST") BOOST_TEST(Str(r, "idempotency_key") == "crm:7:u-linus");
    BOOST_TEST(Str(r["headers"], "authorization") == "Bearer crm-test-token");
  }
}

BOOST_AUTO_TEST_CASE(update_deactivate_reactivate_delete) {
  std::string id = CreateUser("u-linus", "linus@example.com", 1);
  auto context = Context(2, id);
  context.linked_ids = {{"crm", id}, {"dolibarr", "43"}};
  std::string inactive = R"({"id":"u-linus","userName":"linus","displayName":"Linus Torvalds",
    "active":false,"emails":[{"value":"linus@kernel.example"}]})";
  auto patched = adapter->Deliver(
      MakeEvent(ChangeKind::kPatched, "User", "u-linus", Payload(inactive), 2), context);
  BOOST_TEST_REQUIRE(patched.status == DeliveryStatus::kDelivered, patched.error);
  BOOST_TEST(patched.target_id.value_or("") == id);
  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "users").Size() == 1u);
  const auto* user = UserById(state, id);
  BOOST_TEST_REQUIRE(user != nullptr);
  BOOST_TEST(Str(*user, "name") == "Linus Torvalds");
  BOOST_TEST(Str(*user, "email") == "linus@kernel.example");
  BOOST_TEST(!(*user)["active"].GetBool());
  BOOST_TEST(Str((*user)["externalIds"], "dolibarr") == "43");  // refreshed
  BOOST_TEST(Str((*user)["externalIds"], "scim") == "u-linus");

  std::string active = inactive;
  active.replace(active.find("false"), 5, "true");
  auto reactivated = adapter->Deliver(
      MakeEvent(ChangeKind::kReplaced, "User", "u-linus", Payload(active), 3), Context(3, id));
  BOOST_TEST_REQUIRE(reactivated.status == DeliveryStatus::kDelivered, reactivated.error);
  Fake().State(state);
  BOOST_TEST((*UserById(state, id))["active"].GetBool());

  auto deleted =
      adapter->Deliver(MakeEvent(ChangeKind::kDeleted, "User", "u-linus", "{}", 4), Context(4, id));
  BOOST_TEST(deleted.status == DeliveryStatus::kDelivered);
  BOOST_TEST(deleted.unlink);
  Fake().State(state);
  BOOST_TEST(Records(state, "users").Size() == 0u);
  auto again =
      adapter->Deliver(MakeEvent(ChangeKind::kDeleted, "User", "u-linus", "{}", 4), Context(4, id));
  BOOST_TEST(again.status == DeliveryStatus::kDelivered);
  BOOST_TEST(again.unlink);
}

BOOST_AUTO_TEST_CASE(redelivery_after_lost_answer_creates_no_duplicate) {
  Fake().Mode(R"({"mode":"fail_after_apply","count":1,"method":"POST"})");
  auto event = MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 3);
  auto first = adapter->Deliver(event, Context(3));
  BOOST_TEST(first.status == DeliveryStatus::kRetry);
  BOOST_TEST(first.error.find("HTTP 500") != std::string::npos, first.error);
  auto second = adapter->Deliver(event, Context(3));
  BOOST_TEST_REQUIRE(second.status == DeliveryStatus::kDelivered, second.error);
  BOOST_TEST(second.target_id.value_or("") == "crm_u_1");
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "users").Size() == 1u);
}

BOOST_AUTO_TEST_CASE(first_try_of_a_create_posts_without_a_lookup) {
  auto first_try = Context(5);
  first_try.attempt = 1;
  auto outcome = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 5), first_try);
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(testing::Requests(state).Size() == 1u);  // the POST alone
  BOOST_TEST(CountRequests(state, "POST", "/users") == 1);

  // A first try whose e-mail a CRM user holds already: 409 email_taken, adopted as before.
  crm::CrmClient client(Fake().url(), "crm-test-token", {});
  crm::CrmUserFields existing;
  existing.email = "ada@example.com";
  existing.name = "imported";
  auto made = client.CreateUser(existing, "");
  BOOST_TEST_REQUIRE(made.ok());
  std::string ada = R"({"id":"u-ada","userName":"ada","emails":[{"value":"ada@example.com"}]})";
  auto adopt_try = Context(6);
  adopt_try.attempt = 1;
  auto adopted = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-ada", Payload(ada), 6),
                                  adopt_try);
  BOOST_TEST_REQUIRE(adopted.status == DeliveryStatus::kDelivered, adopted.error);
  BOOST_TEST(adopted.target_id.value_or("") == made->id);
  Fake().State(state);
  BOOST_TEST(Records(state, "users").Size() == 2u);
  BOOST_TEST(Str((*UserById(state, made->id))["externalIds"], "scim") == "u-ada");
}

// What the first try skips is still looked up when something may be at the CRM: a later try, a
// re-queued create (key "...:r1", attempt 1 again) and a change other than a create. Here an
// earlier try created the user under an e-mail the SCIM user no longer has: each finds it by
// its SCIM id and updates it; none creates a second CRM user.
BOOST_AUTO_TEST_CASE(creates_that_may_have_reached_the_crm_look_up_first) {
  crm::CrmClient client(Fake().url(), "crm-test-token", {});
  crm::CrmUserFields earlier;
  earlier.email = "old-linus@example.com";
  earlier.name = "Linus";
  earlier.external_ids["scim"] = "u-linus";
  auto made = client.CreateUser(earlier, "");
  BOOST_TEST_REQUIRE(made.ok());

  auto retry = Context(8);
  retry.attempt = 2;
  auto requeued = Context(8);
  requeued.attempt = 1;
  requeued.idempotency_key = "crm:8:r1";
  auto replaced = Context(9);
  replaced.attempt = 1;
  const std::vector<std::pair<ChangeKind, events::DeliveryContext>> cases = {
      {ChangeKind::kCreated, retry},
      {ChangeKind::kCreated, requeued},
      {ChangeKind::kReplaced, replaced}};
  for (const auto& [kind, context] : cases) {
    auto outcome =
        adapter->Deliver(MakeEvent(kind, "User", "u-linus", Payload(kLinus), 8), context);
    BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
    BOOST_TEST(outcome.target_id.value_or("") == made->id);
  }
  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "users").Size() == 1u);
  BOOST_TEST(Str(Records(state, "users")[0], "email") == "linus@example.com");
  BOOST_TEST(CountRequests(state, "GET", "/users") == 3);
  BOOST_TEST(CountRequests(state, "POST", "/users") == 1);  // the setup's
}

BOOST_AUTO_TEST_CASE(email_taken_adopts_the_existing_user) {
  crm::CrmClient client(Fake().url(), "crm-test-token", {});
  crm::CrmUserFields existing;
  existing.email = "LINUS@example.com";
  existing.name = "imported";
  auto made = client.CreateUser(existing, "");
  BOOST_TEST_REQUIRE(made.ok());

  auto outcome = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 1), Context(1));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  BOOST_TEST(outcome.target_id.value_or("") == made->id);
  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "users").Size() == 1u);
  BOOST_TEST(Str(Records(state, "users")[0]["externalIds"], "scim") == "u-linus");
  BOOST_TEST(Str(Records(state, "users")[0], "name") == "Linus T");

  // A second SCIM user with the same email must not take it over.
  std::string twin = kLinus;
  twin.replace(twin.find("u-linus"), 7, "u-twin");
  auto conflict = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-twin", Payload(twin), 2), Context(2));
  BOOST_TEST(conflict.status == DeliveryStatus::kFailed);
  BOOST_TEST(conflict.error.find("u-linus") != std::string::npos, conflict.error);
}

BOOST_AUTO_TEST_CASE(organization_with_memberships) {
  std::string alice = CreateUser("u-alice", "alice@example.com", 1);
  std::string bob = CreateUser("u-bob", "bob@example.com", 2);
  std::string members =
      R"({"added":[{"value":"u-alice","type":"User","role":"admin"},{"value":"u-bob","type":"User"}],"removed":[],"replaced":false})";
  auto created = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Acme"), members), 3),
      Context(3));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  std::string org = created.target_id.value();
  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "organizations").Size() == 1u);
  BOOST_TEST(Str(Records(state, "organizations")[0], "id") == org);
  BOOST_TEST(Str(Records(state, "organizations")[0], "name") == "Acme");
  BOOST_TEST(Str(Records(state, "organizations")[0], "externalId") == "g-org");
  auto roles = Memberships(state, org);
  BOOST_TEST(roles.size() == 2u);
  BOOST_TEST(roles[alice] == "admin");
  BOOST_TEST(roles[bob] == "member");

  // Renamed, Bob leaves, Alice becomes a member.
  std::string delta =
      R"({"added":[{"value":"u-alice","type":"User","role":"member"}],"removed":[{"value":"u-bob","type":"User"}],"replaced":false})";
  auto changed = adapter->Deliver(
      MakeEvent(ChangeKind::kPatched, "Group", "g-org", Payload(Org("Acme Corp"), delta), 4),
      Context(4, org));
  BOOST_TEST_REQUIRE(changed.status == DeliveryStatus::kDelivered, changed.error);
  Fake().State(state);
  BOOST_TEST(Records(state, "organizations").Size() == 1u);
  BOOST_TEST(Str(Records(state, "organizations")[0], "name") == "Acme Corp");
  roles = Memberships(state, org);
  BOOST_TEST(roles.size() == 1u);
  BOOST_TEST(roles[alice] == "member");

  // The whole list replaced by Bob alone.
  std::string replaced =
      R"({"added":[{"value":"u-bob","type":"User","role":"admin"}],"removed":[],"replaced":true})";
  auto put = adapter->Deliver(
      MakeEvent(ChangeKind::kReplaced, "Group", "g-org", Payload(Org("Acme Corp"), replaced), 5),
      Context(5, org));
  BOOST_TEST_REQUIRE(put.status == DeliveryStatus::kDelivered, put.error);
  Fake().State(state);
  roles = Memberships(state, org);
  BOOST_TEST(roles.size() == 1u);
  BOOST_TEST(roles[bob] == "admin");

  auto deleted =
      adapter->Deliver(MakeEvent(ChangeKind::kDeleted, "Group", "g-org", "{}", 6), Context(6, org));
  BOOST_TEST(deleted.status == DeliveryStatus::kDelivered);
  BOOST_TEST(deleted.unlink);
  Fake().State(state);
  BOOST_TEST(Records(state, "organizations").Size() == 0u);
  BOOST_TEST(Records(state, "memberships").Size() == 0u);
}

// The scimd User extension's externalIds join the targets' links; a system named like a scimd
// target (or "scim") is not sent (the target's link, or null, wins); a system the change
// removed (payload "external_ids_removed") is sent as null.
BOOST_AUTO_TEST_CASE(extension_ids_merge_with_links) {
  const std::string ext = "urn:scimd:params:scim:schemas:extension:2.0:User";
  auto user = [&](const std::string& ids) {
    return R"({"id":"u-ext","userName":"ext","emails":[{"value":"ext@example.com"}],")" + ext +
           R"(":{"externalIds":[)" + ids + "]}}";
  };
  auto context = Context(1);
  context.linked_ids = {{"dolibarr", "42"}};
  context.unlinked_targets = {"zoho"};
  auto created = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-ext",
                Payload(user(R"({"system":"supabase","value":"sb-1"},{"system":"erp","value":"E-7"},
                  {"system":"dolibarr","value":"bogus"},{"system":"zoho","value":"z"},
                  {"system":"scim","value":"s"},{"system":"crm","value":"c"})")),
                1),
      context);
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  std::string id = created.target_id.value();
  json::Document state;
  Fake().State(state);
  const json::Value* stored = UserById(state, id);
  BOOST_TEST_REQUIRE(stored != nullptr);
  const auto& ids = (*stored)["externalIds"];
  BOOST_TEST(ids.MemberCount() == 4u);
  BOOST_TEST(Str(ids, "scim") == "u-ext");
  BOOST_TEST(Str(ids, "dolibarr") == "42");
  BOOST_TEST(Str(ids, "supabase") == "sb-1");
  BOOST_TEST(Str(ids, "erp") == "E-7");

  // erp removed (and the client's "dolibarr", which never reached the CRM): erp becomes null,
  // the target's link stays.
  context = Context(2, id);
  context.linked_ids = {{"dolibarr", "42"}, {"crm", id}};
  context.unlinked_targets = {"zoho"};
  std::string payload = R"({"resource":)" + user(R"({"system":"supabase","value":"sb-2"})") +
                        R"(,"external_ids_removed":["erp","dolibarr"]})";
  auto patched =
      adapter->Deliver(MakeEvent(ChangeKind::kPatched, "User", "u-ext", payload, 2), context);
  BOOST_TEST_REQUIRE(patched.status == DeliveryStatus::kDelivered, patched.error);
  Fake().State(state);
  stored = UserById(state, id);
  BOOST_TEST_REQUIRE(stored != nullptr);
  const auto& after = (*stored)["externalIds"];
  BOOST_TEST(after.MemberCount() == 3u);
  BOOST_TEST(Str(after, "dolibarr") == "42");
  BOOST_TEST(Str(after, "supabase") == "sb-2");
  BOOST_TEST(!after.HasMember("erp"));
  for (const auto& r : testing::Requests(state).GetArray()) {
    if (Str(r, "method") != "PATCH") continue;
    const auto& sent = r["body"]["externalIds"];
    BOOST_TEST(sent["erp"].IsNull());
    BOOST_TEST(sent["zoho"].IsNull());
    BOOST_TEST(Str(sent, "dolibarr") == "42");
  }
}

// A User event with "role_change" puts the new role in the user's organizations (linked here
// with the CRM's id); stores (linked by their SCIM id) and unlinked groups are left alone.
BOOST_AUTO_TEST_CASE(role_change_updates_memberships) {
  std::string alice = CreateUser("u-alice", "alice@example.com", 1);
  std::string members =
      R"({"added":[{"value":"u-alice","type":"User","role":"sales"}],"removed":[],"replaced":false})";
  auto created = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Acme"), members), 2),
      Context(2));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  std::string org = created.target_id.value();
  links["g-org"] = org;
  links["g-store"] = "g-store";
  std::string resource =
      R"({"id":"u-alice","userName":"u-alice","emails":[{"value":"alice@example.com"}],"roles":[{"value":"admin"}]})";
  std::string payload =
      R"({"resource":)" + resource +
      R"(,"role_change":{"role":"admin","before":"sales","groups":["g-org","g-store","g-plain"]}})";
  json::Document state;
  Fake().State(state);
  int64_t before = static_cast<int64_t>(testing::Requests(state).Size());
  auto changed = adapter->Deliver(MakeEvent(ChangeKind::kPatched, "User", "u-alice", payload, 3),
                                  Context(3, alice));
  BOOST_TEST_REQUIRE(changed.status == DeliveryStatus::kDelivered, changed.error);
  BOOST_TEST(changed.target_id.value_or("") == alice);
  Fake().State(state);
  BOOST_TEST(Memberships(state, org)[alice] == "admin");
  int puts = 0;
  const auto& requests = testing::Requests(state);
  for (rapidjson::SizeType i = static_cast<rapidjson::SizeType>(before); i < requests.Size(); ++i) {
    if (Str(requests[i], "method") == "PUT") {
      ++puts;
      BOOST_TEST(Str(requests[i], "path") == "/organizations/" + org + "/memberships/" + alice);
    }
  }
  BOOST_TEST(puts == 1);

  // The organization is gone in the CRM: nothing to update, still delivered.
  Fake().State(state);
  auto gone =
      adapter->Deliver(MakeEvent(ChangeKind::kDeleted, "Group", "g-org", "{}", 4), Context(4, org));
  BOOST_TEST_REQUIRE(gone.status == DeliveryStatus::kDelivered);
  auto again = adapter->Deliver(MakeEvent(ChangeKind::kPatched, "User", "u-alice", payload, 5),
                                Context(5, alice));
  BOOST_TEST(again.status == DeliveryStatus::kDelivered, again.error);
}

BOOST_AUTO_TEST_CASE(membership_waits_for_unlinked_users) {
  std::string alice = CreateUser("u-alice", "alice@example.com", 1);
  std::string members =
      R"({"added":[{"value":"u-alice","type":"User"},{"value":"u-carol","type":"User","role":"admin"}],"removed":[],"replaced":false})";
  auto event = MakeEvent(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Acme"), members), 3);
  auto waiting = adapter->Deliver(event, Context(3));
  BOOST_TEST(waiting.status == DeliveryStatus::kRetry);
  BOOST_TEST(waiting.error.find("u-carol") != std::string::npos, waiting.error);
  BOOST_TEST_REQUIRE(waiting.target_id.has_value());  // the organization exists: keep its link

  std::string carol = CreateUser("u-carol", "carol@example.com", 4);
  auto done = adapter->Deliver(event, Context(3, waiting.target_id));
  BOOST_TEST_REQUIRE(done.status == DeliveryStatus::kDelivered, done.error);
  BOOST_CHECK(done.target_id == waiting.target_id);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "organizations").Size() == 1u);
  auto roles = Memberships(state, *done.target_id);
  BOOST_TEST(roles.size() == 2u);
  BOOST_TEST(roles[alice] == "member");
  BOOST_TEST(roles[carol] == "admin");
}

BOOST_AUTO_TEST_CASE(organization_create_is_idempotent_by_key) {
  Fake().Mode(
      R"({"mode":"fail_after_apply","count":1,"method":"POST","path_prefix":"/organizations"})");
  auto event = MakeEvent(ChangeKind::kCreated, "Group", "g-org", Payload(Org("Acme")), 9);
  auto first = adapter->Deliver(event, Context(9));
  BOOST_TEST(first.status == DeliveryStatus::kRetry);
  auto second = adapter->Deliver(event, Context(9));
  BOOST_TEST_REQUIRE(second.status == DeliveryStatus::kDelivered, second.error);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "organizations").Size() == 1u);
  BOOST_TEST(second.target_id.value_or("") == Str(Records(state, "organizations")[0], "id"));
  bool replayed = false;
  for (const auto& r : testing::Requests(state).GetArray()) {
    replayed |= r.HasMember("idempotent_replay") && r["idempotent_replay"].GetBool();
  }
  BOOST_TEST(replayed);
}

BOOST_AUTO_TEST_CASE(store_upsert_and_delete) {
  auto created = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "Group", "g-store", Payload(Store("Berlin 1")), 1),
      Context(1));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  BOOST_TEST(created.target_id.value_or("") == "g-store");
  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "stores").Size() == 1u);
  const auto& store = Records(state, "stores")[0];
  BOOST_TEST(Str(store, "external_id") == "g-store");
  BOOST_TEST(Str(store, "name") == "Berlin 1");
  BOOST_TEST(Str(store, "location") == "Berlin Mitte");
  BOOST_TEST(Str(store, "address") == "Unter den Linden 1, Berlin");
  BOOST_TEST(Str(store, "phone") == "+49 30 1234");
  const auto& post = testing::Requests(state)[0];
  BOOST_TEST(Str(post, "path") == "/stores/bulk-import");
  BOOST_TEST(Str(post["body"], "mode") == "create_or_update");

  auto renamed = adapter->Deliver(
      MakeEvent(ChangeKind::kPatched, "Group", "g-store", Payload(Store("Berlin Flagship")), 2),
      Context(2, "g-store"));
  BOOST_TEST_REQUIRE(renamed.status == DeliveryStatus::kDelivered, renamed.error);
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "stores").Size() == 1u);
  BOOST_TEST(Str(Records(state, "stores")[0], "name") == "Berlin Flagship");

  auto deleted = adapter->Deliver(MakeEvent(ChangeKind::kDeleted, "Group", "g-store", "{}", 3),
                                  Context(3, "g-store"));
  BOOST_TEST(deleted.status == DeliveryStatus::kDelivered);
  BOOST_TEST(deleted.unlink);
  Fake().State(state);
  BOOST_TEST(Records(state, "stores").Size() == 0u);
}

// Store upserts of a batch go in bulk imports of at most 1,000 stores; each store gets its own
// outcome (the CRM's per-store error fails that store only); events that are not store upserts
// (a user, a group still linked as an organization) are delivered one by one.
BOOST_AUTO_TEST_CASE(store_batch_in_bulk_imports) {
  Fake().Config(R"({"reject_store_names":["Store 0007"]})");
  const int n = 1203;
  std::vector<events::ChangeEvent> events;
  std::vector<events::DeliveryContext> contexts;
  for (int i = 0; i < n; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "Store %04d", i);
    std::string id = "g-s" + std::to_string(i);
    std::string body = Store(name);
    body.replace(body.find("g-store"), 7, id);
    events.push_back(MakeEvent(ChangeKind::kCreated, "Group", id, Payload(body), i + 1));
    contexts.push_back(Context(i + 1));
  }
  std::string user = R"({"id":"u-b","userName":"b","emails":[{"value":"b@example.com"}]})";
  events.push_back(MakeEvent(ChangeKind::kCreated, "User", "u-b", Payload(user), n + 1));
  contexts.push_back(Context(n + 1));
  BOOST_TEST(adapter->Batchable(events.front()));
  BOOST_TEST(!adapter->Batchable(events.back()));
  BOOST_TEST(!adapter->Batchable(MakeEvent(ChangeKind::kDeleted, "Group", "g-s1", "{}", 9)));
  BOOST_TEST(adapter->MaxBatch() == 1000);
  std::vector<events::TargetAdapter::BatchItem> items;
  for (size_t i = 0; i < events.size(); ++i) items.push_back({&events[i], &contexts[i]});

  std::vector<events::DeliveryOutcome> outcomes = adapter->DeliverBatch(items);
  BOOST_TEST_REQUIRE(outcomes.size() == items.size());
  for (int i = 0; i < n; ++i) {
    if (i == 7) {
      BOOST_TEST((outcomes[i].status == DeliveryStatus::kFailed));
      BOOST_TEST(outcomes[i].error.find("g-s7") != std::string::npos, outcomes[i].error);
      BOOST_TEST(outcomes[i].error.find("reject_store_names") != std::string::npos);
      continue;
    }
    BOOST_TEST((outcomes[i].status == DeliveryStatus::kDelivered), i << ": " << outcomes[i].error);
    BOOST_TEST(outcomes[i].target_id.value_or("") == "g-s" + std::to_string(i));
  }
  BOOST_TEST((outcomes.back().status == DeliveryStatus::kDelivered), outcomes.back().error);
  BOOST_TEST(outcomes.back().target_id.value_or("").rfind("crm_u_", 0) == 0u);

  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "stores").Size() == static_cast<size_t>(n - 1));
  const auto& sizes = Records(state, "bulk_import_sizes");
  BOOST_TEST_REQUIRE(sizes.Size() == 2u);
  BOOST_TEST(sizes[0].GetInt() == 1000);
  BOOST_TEST(sizes[1].GetInt() == n - 1000);
}

// A bulk import the CRM refuses as a whole (a 5xx) is every store's failure, target-wide.
BOOST_AUTO_TEST_CASE(store_batch_target_wide_failure) {
  Fake().Mode(R"({"mode":"error503","count":1})");
  std::vector<events::ChangeEvent> events;
  std::vector<events::DeliveryContext> contexts;
  for (int i = 0; i < 3; ++i) {
    std::string id = "g-s" + std::to_string(i);
    std::string body = Store("S" + std::to_string(i));
    body.replace(body.find("g-store"), 7, id);
    events.push_back(MakeEvent(ChangeKind::kCreated, "Group", id, Payload(body), i + 1));
    contexts.push_back(Context(i + 1));
  }
  std::vector<events::TargetAdapter::BatchItem> items;
  for (size_t i = 0; i < events.size(); ++i) items.push_back({&events[i], &contexts[i]});
  auto outcomes = adapter->DeliverBatch(items);
  BOOST_TEST_REQUIRE(outcomes.size() == 3u);
  for (const auto& o : outcomes) {
    BOOST_TEST((o.status == DeliveryStatus::kRetry));
    BOOST_TEST(o.target_unavailable);
  }
}

BOOST_AUTO_TEST_CASE(group_that_stops_being_a_store_is_removed) {
  auto created = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "Group", "g-store", Payload(Store("Berlin 1")), 1),
      Context(1));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  auto plain = adapter->Deliver(MakeEvent(ChangeKind::kPatched, "Group", "g-store",
                                          Payload(R"({"id":"g-store","displayName":"x"})"), 2),
                                Context(2, "g-store"));
  BOOST_TEST(plain.status == DeliveryStatus::kDelivered);
  BOOST_TEST(plain.unlink);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "stores").Size() == 0u);

  // A plain group never reaches the CRM.
  auto other = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "Group", "g-plain",
                                          Payload(R"({"id":"g-plain","displayName":"x"})"), 3),
                                Context(3));
  BOOST_TEST(other.status == DeliveryStatus::kDelivered);
  BOOST_TEST(!other.target_id.has_value());
  Fake().State(state);
  BOOST_TEST(CountRequests(state, "POST", "/") == 1);  // only the store import
}

BOOST_AUTO_TEST_CASE(errors_are_classified) {
  Fake().Mode(R"({"mode":"ratelimit","count":1,"retry_after":7})");
  auto e429 = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 1), Context(1));
  BOOST_TEST(e429.status == DeliveryStatus::kRetry);
  BOOST_TEST(e429.rate_limited);
  BOOST_TEST(e429.retry_after_seconds.value_or(0) == 7);
  // That 429 paused the adapter's own limiter: the next call does not reach the CRM.
  json::Document before, after;
  Fake().State(before);
  auto held = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 1), Context(1));
  BOOST_TEST(held.status == DeliveryStatus::kRetry);
  BOOST_TEST(held.rate_limited);
  BOOST_TEST(held.error.find("client-side limit") != std::string::npos, held.error);
  BOOST_TEST(held.retry_after_seconds.value_or(0) >= 6);
  Fake().State(after);
  BOOST_TEST(testing::Requests(after).Size() == testing::Requests(before).Size());
  adapter = testing::MakeAdapter(config);

  // The CRM's own limit (one request a minute here): 429 with the Retry-After it computes.
  Fake().Control("rate_limit", R"({"per_minute":1})");
  auto limited = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 1), Context(1));
  BOOST_TEST(limited.status == DeliveryStatus::kRetry);
  BOOST_TEST(limited.error.find("rate_limited") != std::string::npos, limited.error);
  BOOST_TEST(limited.retry_after_seconds.value_or(0) >= 1);
  Fake().Control("rate_limit", R"({"per_minute":0})");
  adapter = testing::MakeAdapter(config);

  Fake().Mode(R"({"mode":"error500","count":1})");
  auto e500 = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 1), Context(1));
  BOOST_TEST(e500.status == DeliveryStatus::kRetry);
  BOOST_TEST(e500.error.find("internal_error") != std::string::npos, e500.error);

  std::string bad = R"({"id":"u-bad","userName":"bad","emails":[{"value":"not-an-email"}]})";
  auto e422 = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-bad", Payload(bad), 3),
                               Context(3));
  BOOST_TEST(e422.status == DeliveryStatus::kFailed);
  BOOST_TEST(e422.error.find("HTTP 422") != std::string::npos, e422.error);
  BOOST_TEST(e422.error.find("validation_error") != std::string::npos, e422.error);

  config.settings["token"] = "wrong";
  auto e401 = testing::MakeAdapter(config)->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-linus", Payload(kLinus), 1), Context(1));
  BOOST_TEST(e401.status == DeliveryStatus::kFailed);
  BOOST_TEST(e401.error.find("unauthorized") != std::string::npos, e401.error);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::adapters
