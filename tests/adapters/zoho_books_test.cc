// The zoho_books adapter against tests/fakes/zoho_books_fake.py.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "adapters/common/rate_limiter.h"
#include "fake_server.h"

namespace scim::adapters {
namespace {

using events::ChangeKind;
using events::DeliveryStatus;
using testing::Context;
using testing::CountRequests;
using testing::FakeServer;
using testing::MakeEvent;
using testing::Payload;
using testing::Records;
using testing::Str;

FakeServer& Fake() {
  static FakeServer fake("zoho_books");
  return fake;
}

TargetConfig ZohoConfig(const std::string& url) {
  TargetConfig config;
  config.name = "zoho";
  config.type = "zoho_books";
  config.settings = {{"api_url", url + "/books/v3"},
                     {"accounts_url", url + "/oauth/v2/token"},
                     {"organization_id", "10234695"},
                     {"client_id", "1000.FAKECLIENTID"},
                     {"client_secret", "fake-client-secret"},
                     {"refresh_token", "1000.fake-refresh-token"},
                     {"role_mapping.admin", "982000000006001"},
                     {"default_role_id", "982000000006005"},
                     {"timeout_ms", "5000"}};
  return config;
}

struct ZohoFixture {
  ZohoFixture() {
    Fake().Reset();
    config = ZohoConfig(Fake().url());
    adapter = testing::MakeAdapter(config);
  }

  // The Zoho user with `email` in the fake's records (fails the test when absent).
  const json::Value& UserByEmail(const json::Document& state, const std::string& email) {
    for (const auto& u : Records(state, "users").GetArray()) {
      if (Str(u, "email") == email) return u;
    }
    BOOST_FAIL("no Zoho user " + email);
    return Records(state, "users")[0];
  }

  int UsersWithEmail(const json::Document& state, const std::string& email) {
    int n = 0;
    for (const auto& u : Records(state, "users").GetArray()) n += Str(u, "email") == email;
    return n;
  }

  TargetConfig config;
  std::unique_ptr<events::TargetAdapter> adapter;
};

std::string Grace(bool active, const std::string& name = "Grace Hopper",
                  const std::string& role = "admin") {
  return std::string(R"({"id":"u-grace","userName":"grace","displayName":")") + name +
         R"(","active":)" + (active ? "true" : "false") +
         R"(,"emails":[{"value":"grace@example.com","primary":true}],"roles":[{"value":")" + role +
         R"("}]})";
}

events::ChangeEvent GraceEvent(ChangeKind kind, const std::string& resource, int64_t seq) {
  return MakeEvent(kind, "User", "u-grace", kind == ChangeKind::kDeleted ? "{}" : Payload(resource),
                   seq);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(zoho_books, ZohoFixture)

BOOST_AUTO_TEST_CASE(create_with_mapped_role_and_oauth) {
  BOOST_TEST(!adapter->Handles(MakeEvent(ChangeKind::kCreated, "Group", "g", "{}", 1)));
  auto outcome =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  json::Document state;
  Fake().State(state);
  const auto& user = UserByEmail(state, "grace@example.com");
  BOOST_TEST(outcome.target_id.value_or("") == Str(user, "user_id"));
  BOOST_TEST(Str(user, "name") == "Grace Hopper");
  BOOST_TEST(Str(user, "role_id") == "982000000006001");  // role_mapping.admin
  BOOST_TEST(Str(user, "status") == "invited");
  // One token minted; every API call carried it, with the organization id.
  BOOST_TEST(Records(state, "access_tokens").Size() == 1u);
  for (const auto& r : testing::Requests(state).GetArray()) {
    if (Str(r, "path").starts_with("/oauth")) continue;
    BOOST_TEST(Str(r["headers"], "authorization").starts_with("Zoho-oauthtoken 1000."));
    BOOST_TEST(Str(r["query"], "organization_id") == "10234695");
  }
  // The refresh token travels in the form body, never in the URL.
  BOOST_TEST(CountRequests(state, "POST", "/oauth/v2/token") == 1);
  for (const auto& r : testing::Requests(state).GetArray()) {
    BOOST_TEST(!r["query"].HasMember("refresh_token"));
  }
}

BOOST_AUTO_TEST_CASE(update_deactivate_reactivate_delete) {
  auto created =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  std::string id = created.target_id.value();
  Fake().Control("accept_invitation", R"({"email":"grace@example.com"})");

  // Unchanged user: no write at all.
  json::Document state;
  Fake().State(state);
  int puts_before = CountRequests(state, "PUT", "/books/v3/users");
  auto same =
      adapter->Deliver(GraceEvent(ChangeKind::kPatched, Grace(true), 2), Context("zoho", 2, id));
  BOOST_TEST_REQUIRE(same.status == DeliveryStatus::kDelivered, same.error);
  Fake().State(state);
  BOOST_TEST(CountRequests(state, "PUT", "/books/v3/users") == puts_before);

  // Renamed, role unmapped (default role), deactivated.
  auto changed = adapter->Deliver(
      GraceEvent(ChangeKind::kReplaced, Grace(false, "Rear Admiral Hopper", "sailor"), 3),
      Context("zoho", 3, id));
  BOOST_TEST_REQUIRE(changed.status == DeliveryStatus::kDelivered, changed.error);
  BOOST_TEST(changed.target_id.value_or("") == id);
  Fake().State(state);
  const auto& user = UserByEmail(state, "grace@example.com");
  BOOST_TEST(Str(user, "name") == "Rear Admiral Hopper");
  BOOST_TEST(Str(user, "role_id") == "982000000006005");
  BOOST_TEST(Str(user, "status") == "inactive");

  auto reactivated = adapter->Deliver(
      GraceEvent(ChangeKind::kPatched, Grace(true, "Rear Admiral Hopper", "sailor"), 4),
      Context("zoho", 4, id));
  BOOST_TEST_REQUIRE(reactivated.status == DeliveryStatus::kDelivered, reactivated.error);
  Fake().State(state);
  BOOST_TEST(Str(UserByEmail(state, "grace@example.com"), "status") == "active");

  auto deleted = adapter->Deliver(GraceEvent(ChangeKind::kDeleted, "", 5), Context("zoho", 5, id));
  BOOST_TEST(deleted.status == DeliveryStatus::kDelivered);
  BOOST_TEST(deleted.unlink);
  Fake().State(state);
  BOOST_TEST(Str(UserByEmail(state, "grace@example.com"), "status") == "deleted");
  auto again = adapter->Deliver(GraceEvent(ChangeKind::kDeleted, "", 5), Context("zoho", 5, id));
  BOOST_TEST(again.status == DeliveryStatus::kDelivered);  // 404 / code 1002: already gone
  BOOST_TEST(again.unlink);
}

BOOST_AUTO_TEST_CASE(inactive_users_get_no_invitation) {
  auto created =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(false), 1), Context("zoho", 1));
  BOOST_TEST(created.status == DeliveryStatus::kDelivered);
  BOOST_TEST(!created.target_id.has_value());
  json::Document state;
  Fake().State(state);
  BOOST_TEST(UsersWithEmail(state, "grace@example.com") == 0);

  // Activated later: invited then.
  auto activated =
      adapter->Deliver(GraceEvent(ChangeKind::kPatched, Grace(true), 2), Context("zoho", 2));
  BOOST_TEST_REQUIRE(activated.status == DeliveryStatus::kDelivered, activated.error);
  BOOST_TEST(activated.target_id.has_value());
  // Deactivated before accepting: the invitation is withdrawn and the link dropped.
  auto withdrawn = adapter->Deliver(GraceEvent(ChangeKind::kPatched, Grace(false), 3),
                                    Context("zoho", 3, activated.target_id));
  BOOST_TEST(withdrawn.status == DeliveryStatus::kDelivered, withdrawn.error);
  BOOST_TEST(withdrawn.unlink);
  Fake().State(state);
  BOOST_TEST(Str(UserByEmail(state, "grace@example.com"), "status") == "deleted");
}

BOOST_AUTO_TEST_CASE(redelivery_after_lost_answer_creates_no_duplicate) {
  Fake().Mode(
      R"({"mode":"fail_after_apply","count":1,"method":"POST","path_prefix":"/books/v3/users"})");
  auto first =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(first.status == DeliveryStatus::kRetry);
  auto second =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST_REQUIRE(second.status == DeliveryStatus::kDelivered, second.error);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(UsersWithEmail(state, "grace@example.com") == 1);
  BOOST_TEST(second.target_id.value_or("") ==
             Str(UserByEmail(state, "grace@example.com"), "user_id"));
}

// First try of an active user: create without paging through Zoho's users (no email filter);
// a retry, or a refused create, looks the user up by email and adopts it instead of duplicating.
BOOST_AUTO_TEST_CASE(first_try_creates_without_listing_users) {
  auto first_try = Context("zoho", 1);
  first_try.attempt = 1;
  auto created = adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), first_try);
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(CountRequests(state, "GET", "/books/v3/users") == 0);
  BOOST_TEST(CountRequests(state, "POST", "/books/v3/users") == 1);

  // The same user again on a first try (an earlier delivery's answer was lost): Zoho refuses
  // the duplicate email, the adapter finds and adopts the existing user.
  auto again = adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 2), first_try);
  BOOST_TEST_REQUIRE(again.status == DeliveryStatus::kDelivered, again.error);
  Fake().State(state);
  BOOST_TEST(UsersWithEmail(state, "grace@example.com") == 1);
  BOOST_TEST(again.target_id.value_or("a") == created.target_id.value_or("b"));
  BOOST_TEST(CountRequests(state, "GET", "/books/v3/users") >= 1);
}

// email_lookup_cache_seconds: one listing answers the look-ups of inactive users without a link
// for that long; users the adapter creates join the index, and whatever it names is read again.
BOOST_AUTO_TEST_CASE(inactive_lookups_share_one_listing) {
  config.settings["email_lookup_cache_seconds"] = "60";
  adapter = testing::MakeAdapter(config);
  auto listings = [] {
    json::Document state;
    Fake().State(state);
    int n = 0;
    for (const auto& r : testing::Requests(state).GetArray()) {
      n += Str(r, "method") == "GET" && Str(r, "path") == "/books/v3/users";
    }
    return n;
  };
  std::string ada = Grace(false);
  ada.replace(ada.find("grace@example.com"), 17, "ada@example.com");
  auto first = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-ada", Payload(ada), 1),
                                Context("zoho", 1));
  BOOST_TEST(first.status == DeliveryStatus::kDelivered, first.error);
  BOOST_TEST(!first.target_id.has_value());
  BOOST_TEST(listings() == 1);

  // Grace is created (active), then deactivated with her link lost: the look-up finds her
  // through the index without listing again, and her pending invitation is withdrawn.
  auto first_try = Context("zoho", 2);
  first_try.attempt = 1;
  auto created = adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 2), first_try);
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  auto withdrawn =
      adapter->Deliver(GraceEvent(ChangeKind::kPatched, Grace(false), 3), Context("zoho", 3));
  BOOST_TEST(withdrawn.status == DeliveryStatus::kDelivered, withdrawn.error);
  BOOST_TEST(withdrawn.unlink);
  BOOST_TEST(listings() == 1);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Str(UserByEmail(state, "grace@example.com"), "status") == "deleted");

  // The index still names her: read again, gone, so the users are listed again (no match).
  auto again =
      adapter->Deliver(GraceEvent(ChangeKind::kPatched, Grace(false), 4), Context("zoho", 4));
  BOOST_TEST(again.status == DeliveryStatus::kDelivered, again.error);
  BOOST_TEST(!again.target_id.has_value());
  BOOST_TEST(listings() == 2);

  // Off (the default): every inactive look-up lists.
  config.settings.erase("email_lookup_cache_seconds");
  adapter = testing::MakeAdapter(config);
  for (int seq : {5, 6}) {
    auto outcome = adapter->Deliver(
        MakeEvent(ChangeKind::kPatched, "User", "u-ada", Payload(ada), seq), Context("zoho", seq));
    BOOST_TEST(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  }
  BOOST_TEST(listings() == 4);
}

BOOST_AUTO_TEST_CASE(expired_token_is_refreshed_once_on_401) {
  auto created =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  Fake().Control("expire_tokens");
  auto updated = adapter->Deliver(GraceEvent(ChangeKind::kPatched, Grace(true, "G. Hopper"), 2),
                                  Context("zoho", 2, created.target_id));
  BOOST_TEST_REQUIRE(updated.status == DeliveryStatus::kDelivered, updated.error);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(CountRequests(state, "POST", "/oauth/v2/token") == 2);
  int unauthorized = 0;
  for (const auto& r : testing::Requests(state).GetArray()) {
    unauthorized += r["status"].IsInt() && r["status"].GetInt() == 401;
  }
  BOOST_TEST(unauthorized == 1);
  BOOST_TEST(Str(UserByEmail(state, "grace@example.com"), "name") == "G. Hopper");
}

BOOST_AUTO_TEST_CASE(token_is_refreshed_before_it_expires) {
  Fake().Config(R"({"access_token_lifetime_seconds":3})");  // refreshed after 2 s
  auto first =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST_REQUIRE(first.status == DeliveryStatus::kDelivered, first.error);
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  auto second = adapter->Deliver(GraceEvent(ChangeKind::kPatched, Grace(true, "G. Hopper"), 2),
                                 Context("zoho", 2, first.target_id));
  BOOST_TEST_REQUIRE(second.status == DeliveryStatus::kDelivered, second.error);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(CountRequests(state, "POST", "/oauth/v2/token") == 2);
  for (const auto& r : testing::Requests(state).GetArray()) {
    BOOST_TEST(!(r["status"].IsInt() && r["status"].GetInt() == 401));
  }
}

BOOST_AUTO_TEST_CASE(refused_refresh_token_is_a_retry_without_secrets) {
  config.settings["refresh_token"] = "1000.revoked-secret-value";
  auto revoked = testing::MakeAdapter(config);
  auto outcome =
      revoked->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(outcome.status == DeliveryStatus::kRetry);
  BOOST_TEST(outcome.error.find("invalid_code") != std::string::npos, outcome.error);
  BOOST_TEST(outcome.error.find("revoked-secret-value") == std::string::npos, outcome.error);
  BOOST_TEST(outcome.error.find("fake-client-secret") == std::string::npos, outcome.error);
  BOOST_TEST(outcome.retry_after_seconds.has_value());
  // The failure is remembered: no second refresh attempt right away.
  auto again =
      revoked->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(again.status == DeliveryStatus::kRetry);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(CountRequests(state, "POST", "/oauth/v2/token") == 1);
}

BOOST_AUTO_TEST_CASE(target_rate_limit_is_a_retry_until_the_next_minute) {
  Fake().Control("rate_limit", R"({"per_minute":1})");
  auto outcome =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(outcome.status == DeliveryStatus::kRetry);
  BOOST_TEST(outcome.error.find("HTTP 429") != std::string::npos, outcome.error);
  BOOST_TEST_REQUIRE(outcome.retry_after_seconds.has_value());
  BOOST_TEST(*outcome.retry_after_seconds >= 1);
  BOOST_TEST(*outcome.retry_after_seconds <= 60);
}

BOOST_AUTO_TEST_CASE(daily_limit_parks_the_target) {
  Fake().Config(R"({"daily_limit":1})");
  auto outcome =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(outcome.status == DeliveryStatus::kRetry);
  BOOST_TEST(outcome.error.find("per day") != std::string::npos, outcome.error);
  BOOST_TEST(outcome.retry_after_seconds.value_or(0) == 3600);
  // Every later delivery waits too, without calling Zoho.
  json::Document state;
  Fake().State(state);
  auto calls = testing::Requests(state).Size();
  auto later =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 2), Context("zoho", 2));
  BOOST_TEST(later.status == DeliveryStatus::kRetry);
  BOOST_TEST(later.retry_after_seconds.value_or(0) >= 3500);
  Fake().State(state);
  BOOST_TEST(testing::Requests(state).Size() == calls);
}

BOOST_AUTO_TEST_CASE(client_side_budget_refuses_long_waits) {
  config.settings["requests_per_minute"] = "10";  // burst 1, then one every 6.7 s
  config.settings["max_rate_wait_ms"] = "0";
  auto limited = testing::MakeAdapter(config);
  auto outcome =
      limited->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(outcome.status == DeliveryStatus::kRetry);
  BOOST_TEST(outcome.error.find("client-side limit") != std::string::npos, outcome.error);
  BOOST_TEST(outcome.retry_after_seconds.value_or(0) >= 1);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(CountRequests(state, "GET", "/books/v3/users") == 1);   // the lookup went out
  BOOST_TEST(CountRequests(state, "POST", "/books/v3/users") == 0);  // the create waits
}

BOOST_AUTO_TEST_CASE(client_side_budget_waits_instead_of_dropping) {
  config.settings["requests_per_minute"] = "120";  // burst 12, then 1.8 a second
  auto paced = testing::MakeAdapter(config);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) {  // 16 calls: 4 have to wait about 0.55 s each
    std::string id = "u-" + std::to_string(i);
    std::string user = R"({"id":")" + id + R"(","userName":")" + id + R"(","emails":[{"value":")" +
                       id + R"(@example.com"}]})";
    auto outcome = paced->Deliver(MakeEvent(ChangeKind::kCreated, "User", id, Payload(user), i + 1),
                                  Context("zoho", i + 1));
    BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  BOOST_TEST(elapsed >= std::chrono::milliseconds(1800));
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "users").Size() == 9u);  // the owner + 8
}

BOOST_AUTO_TEST_CASE(errors_are_classified) {
  Fake().Mode(R"({"mode":"error500","count":1,"path_prefix":"/books/v3"})");
  auto e500 =
      adapter->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(e500.status == DeliveryStatus::kRetry);
  BOOST_TEST(e500.error.find("Internal error") != std::string::npos, e500.error);

  // The token endpoint failing is retried too, and says nothing about credentials.
  Fake().Mode(R"({"mode":"error503","count":1,"path_prefix":"/oauth"})");
  auto token_down = testing::MakeAdapter(config)->Deliver(
      GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(token_down.status == DeliveryStatus::kRetry);
  BOOST_TEST(token_down.error.find("HTTP 503") != std::string::npos, token_down.error);
  BOOST_TEST(token_down.error.find("client_secret") == std::string::npos, token_down.error);

  // A role_id Zoho does not know: 400 with the target's message, permanent.
  config.settings["role_mapping.admin"] = "123";
  auto bad_role = testing::MakeAdapter(config);
  auto e400 =
      bad_role->Deliver(GraceEvent(ChangeKind::kCreated, Grace(true), 1), Context("zoho", 1));
  BOOST_TEST(e400.status == DeliveryStatus::kFailed);
  BOOST_TEST(e400.error.find("Invalid value passed for role_id") != std::string::npos, e400.error);

  // No email: Zoho cannot take the user.
  auto no_email = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-x", Payload(R"({"id":"u-x","userName":"x"})"), 2),
      Context("zoho", 2));
  BOOST_TEST(no_email.status == DeliveryStatus::kFailed);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(zoho_rate_limiter)

BOOST_AUTO_TEST_CASE(no_minute_exceeds_the_limit) {
  // 60 a minute: a burst of 6, then 54 a minute (one every 1.11 s).
  RateLimiter limiter(60, std::chrono::milliseconds(0));
  for (int i = 0; i < 6; ++i) BOOST_TEST(limiter.Reserve().has_value());
  std::chrono::milliseconds needed(0);
  BOOST_TEST(!limiter.Reserve(&needed).has_value());
  BOOST_TEST(needed.count() > 1000);
  BOOST_TEST(needed.count() <= 1112);

  RateLimiter patient(60, std::chrono::milliseconds(5000));
  for (int i = 0; i < 6; ++i) BOOST_TEST(patient.Reserve()->count() == 0);
  auto w1 = patient.Reserve();
  auto w2 = patient.Reserve();
  BOOST_TEST_REQUIRE((w1 && w2));
  BOOST_TEST(w2->count() > w1->count() + 1000);  // queued one after the other

  RateLimiter paused(6000, std::chrono::milliseconds(0));
  BOOST_TEST(paused.Reserve().has_value());
  paused.Pause(std::chrono::seconds(30));
  BOOST_TEST(!paused.Reserve(&needed).has_value());
  BOOST_TEST(needed.count() > 29000);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::adapters
