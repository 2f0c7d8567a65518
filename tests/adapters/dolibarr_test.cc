// The dolibarr adapter against tests/fakes/dolibarr_fake.py.
#include <boost/test/unit_test.hpp>

#include "adapters/dolibarr/dolibarr_client.h"
#include "adapters/dolibarr/dolibarr_errors.h"
#include "fake_server.h"

namespace scim::adapters {
namespace {

using events::ChangeKind;
using events::DeliveryStatus;
using testing::Context;
using testing::FakeServer;
using testing::MakeEvent;
using testing::Payload;
using testing::Records;
using testing::Str;

FakeServer& Fake() {
  static FakeServer fake("dolibarr");
  return fake;
}

struct DolibarrFixture {
  DolibarrFixture() {
    Fake().Reset();
    config.name = "dolibarr";
    config.type = "dolibarr";
    config.settings = {{"url", Fake().url() + "/api/index.php"},
                       {"api_key", "dolibarr-test-key"},
                       {"timeout_ms", "5000"}};
    adapter = testing::MakeAdapter(config);
  }
  TargetConfig config;
  std::unique_ptr<events::TargetAdapter> adapter;
};

const char* kAda = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id":"u-ada","userName":"ada","displayName":"Ada Lovelace","active":true,
  "emails":[{"value":"other@example.com"},{"value":"ada@example.com","primary":true}],
  "phoneNumbers":[{"value":"+44 20.7946 0000","type":"work"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engineering"}})";

const char* kAdaRenamed = R"({"id":"u-ada","userName":"ada","active":false,
  "name":{"givenName":"Ada","familyName":"King"},
  "emails":[{"value":"ada.king@example.com"}]})";

events::ChangeEvent AdaEvent(ChangeKind kind, const char* resource, int64_t seq) {
  return MakeEvent(kind, "User", "u-ada", kind == ChangeKind::kDeleted ? "{}" : Payload(resource),
                   seq);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dolibarr, DolibarrFixture)

BOOST_AUTO_TEST_CASE(handles_users_only) {
  BOOST_TEST(adapter->Handles(MakeEvent(ChangeKind::kCreated, "User", "x", "{}", 1)));
  BOOST_TEST(!adapter->Handles(MakeEvent(ChangeKind::kCreated, "Group", "x", "{}", 1)));
  BOOST_TEST(adapter->Name() == "dolibarr");
  BOOST_TEST(adapter->Type() == "dolibarr");
}

BOOST_AUTO_TEST_CASE(create_maps_every_field) {
  auto outcome = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  BOOST_TEST(outcome.target_id.value_or("") == "1");
  BOOST_TEST(!outcome.unlink);

  json::Document state;
  Fake().State(state);
  const auto& tps = Records(state, "thirdparties");
  BOOST_TEST_REQUIRE(tps.Size() == 1u);
  const auto& tp = tps[0];
  BOOST_TEST(Str(tp, "name") == "Ada Lovelace");
  BOOST_TEST(Str(tp, "email") == "ada@example.com");  // the primary one
  BOOST_TEST(Str(tp, "phone") == "+442079460000");    // Dolibarr strips spaces and dots
  BOOST_TEST(Str(tp, "ref_ext") == "u-ada");
  BOOST_TEST(tp["status"].GetInt() == 1);
  BOOST_TEST(tp["client"].GetInt() == 0);
  BOOST_TEST(tp["fournisseur"].GetInt() == 0);
  BOOST_TEST(Str(tp["array_options"], "options_department") == "Engineering");
  BOOST_TEST(Str(tp, "last_caller") == "scimd");
  // Authenticated with the DOLAPIKEY header.
  const auto& post = testing::Requests(state)[testing::Requests(state).Size() - 1];
  BOOST_TEST(Str(post, "method") == "POST");
  BOOST_TEST(Str(post["headers"], "dolapikey") == "dolibarr-test-key");
  // Two calls per create: one look-up (ref_ext or e-mail) and the POST.
  int lookups = 0;
  for (const auto& r : testing::Requests(state).GetArray()) {
    lookups += Str(r, "method") == "GET" && Str(r, "path") == "/api/index.php/thirdparties";
  }
  BOOST_TEST(lookups == 1);
  BOOST_TEST(testing::CountRequests(state, "POST", "/api/index.php/thirdparties") == 1);
}

BOOST_AUTO_TEST_CASE(update_deactivate_reactivate_delete) {
  auto created = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  std::string id = created.target_id.value();

  // Patched: new name from given + family name, new email, inactive, phone and department gone.
  auto updated =
      adapter->Deliver(AdaEvent(ChangeKind::kPatched, kAdaRenamed, 2), Context("dolibarr", 2, id));
  BOOST_TEST_REQUIRE(updated.status == DeliveryStatus::kDelivered, updated.error);
  BOOST_TEST(updated.target_id.value_or("") == id);
  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "thirdparties").Size() == 1u);
  const auto& tp = Records(state, "thirdparties")[0];
  BOOST_TEST(Str(tp, "name") == "Ada King");
  BOOST_TEST(Str(tp, "email") == "ada.king@example.com");
  BOOST_TEST(Str(tp, "phone") == "");
  BOOST_TEST(Str(tp["array_options"], "options_department") == "");
  BOOST_TEST(tp["status"].GetInt() == 0);
  BOOST_TEST(testing::CountRequests(state, "POST", "/api/index.php/thirdparties") == 1);

  // Reactivated.
  std::string active = std::string(kAdaRenamed);
  active.replace(active.find("\"active\":false"), 14, "\"active\":true");
  auto reactivated = adapter->Deliver(AdaEvent(ChangeKind::kReplaced, active.c_str(), 3),
                                      Context("dolibarr", 3, id));
  BOOST_TEST_REQUIRE(reactivated.status == DeliveryStatus::kDelivered, reactivated.error);
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties")[0]["status"].GetInt() == 1);

  // Deleted, then deleted again (already gone: 404 counts as done).
  auto deleted =
      adapter->Deliver(AdaEvent(ChangeKind::kDeleted, nullptr, 4), Context("dolibarr", 4, id));
  BOOST_TEST(deleted.status == DeliveryStatus::kDelivered);
  BOOST_TEST(deleted.unlink);
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 0u);
  auto again =
      adapter->Deliver(AdaEvent(ChangeKind::kDeleted, nullptr, 4), Context("dolibarr", 4, id));
  BOOST_TEST(again.status == DeliveryStatus::kDelivered);
  BOOST_TEST(again.unlink);
}

BOOST_AUTO_TEST_CASE(redelivery_after_lost_answer_creates_no_duplicate) {
  Fake().Mode(R"({"mode":"fail_after_apply","count":1,"method":"POST"})");
  auto first = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(first.status == DeliveryStatus::kRetry);
  BOOST_TEST(!first.error.empty());
  auto second = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(second.status == DeliveryStatus::kDelivered, second.error);
  BOOST_TEST(second.target_id.value_or("") == "1");
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 1u);
}

BOOST_AUTO_TEST_CASE(delete_without_link_finds_the_third_party_by_ref_ext) {
  Fake().Mode(R"({"mode":"fail_after_apply","count":1,"method":"POST"})");
  auto lost = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(lost.status == DeliveryStatus::kRetry);
  auto deleted =
      adapter->Deliver(AdaEvent(ChangeKind::kDeleted, nullptr, 2), Context("dolibarr", 2));
  BOOST_TEST(deleted.status == DeliveryStatus::kDelivered);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 0u);
}

BOOST_AUTO_TEST_CASE(adopts_an_existing_third_party_with_the_same_email) {
  dolibarr::DolibarrClient client(Fake().url() + "/api/index.php", "dolibarr-test-key",
                                  "department", {});
  dolibarr::ThirdPartyFields existing;
  existing.name = "A. Lovelace (imported)";
  existing.email = "ADA@example.com";
  auto made = client.Create(existing);
  BOOST_TEST_REQUIRE(made.ok());

  auto outcome = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  BOOST_TEST(outcome.target_id.value_or("") == *made);
  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "thirdparties").Size() == 1u);
  BOOST_TEST(Str(Records(state, "thirdparties")[0], "ref_ext") == "u-ada");
  BOOST_TEST(Str(Records(state, "thirdparties")[0], "name") == "Ada Lovelace");
}

BOOST_AUTO_TEST_CASE(does_not_adopt_another_scim_users_third_party) {
  auto first = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(first.status == DeliveryStatus::kDelivered, first.error);
  // Another SCIM user with the same email gets its own third party.
  std::string twin = kAda;
  twin.replace(twin.find("u-ada"), 5, "u-twin");
  auto second = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-twin", Payload(twin), 2), Context("dolibarr", 2));
  BOOST_TEST_REQUIRE(second.status == DeliveryStatus::kDelivered, second.error);
  BOOST_CHECK(second.target_id != first.target_id);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 2u);
}

BOOST_AUTO_TEST_CASE(stale_link_recreates) {
  auto outcome =
      adapter->Deliver(AdaEvent(ChangeKind::kPatched, kAda, 5), Context("dolibarr", 5, "999"));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  BOOST_TEST(outcome.target_id.value_or("") == "1");
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 1u);
}

BOOST_AUTO_TEST_CASE(transient_failures_are_retried) {
  Fake().Mode(R"({"mode":"error500","count":1})");
  auto e500 = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(e500.status == DeliveryStatus::kRetry);
  BOOST_TEST(e500.error.find("HTTP 500") != std::string::npos, e500.error);

  Fake().Mode(R"({"mode":"error503","count":1,"retry_after":42})");
  auto e503 = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(e503.status == DeliveryStatus::kRetry);
  BOOST_TEST(e503.retry_after_seconds.value_or(0) == 42);

  Fake().Mode(R"({"mode":"ratelimit","count":1,"retry_after":7})");
  auto e429 = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(e429.status == DeliveryStatus::kRetry);
  BOOST_TEST(e429.retry_after_seconds.value_or(0) == 7);

  Fake().Mode(R"({"mode":"down","count":5})");
  auto down = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(down.status == DeliveryStatus::kRetry);
  Fake().Mode(R"({"mode":"normal"})");

  // An API module switched off answers HTML with 200: not success.
  Fake().Config(R"({"module_disabled":true})");
  auto html = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(html.status == DeliveryStatus::kRetry);
  BOOST_TEST(
      html.error.find("answered 200 with HTML: its API module is disabled") != std::string::npos,
      html.error);
  Fake().Config(R"({"module_disabled":false})");

  // Its database stopped: the error page with 202.
  Fake().Config(R"({"database_down":true})");
  auto db_down = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(db_down.status == DeliveryStatus::kRetry);
  BOOST_TEST(db_down.error.find("Dolibarr answered 202 with HTML: its database may be down") !=
                 std::string::npos,
             db_down.error);
  BOOST_TEST(db_down.error.find("API module") == std::string::npos, db_down.error);
  Fake().Config(R"({"database_down":false})");

  auto ok = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(ok.status == DeliveryStatus::kDelivered, ok.error);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 1u);
}

BOOST_AUTO_TEST_CASE(client_errors_fail_with_the_targets_message) {
  auto created = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  Fake().Config(R"({"undeletable_ids":[1]})");
  auto refused = adapter->Deliver(AdaEvent(ChangeKind::kDeleted, nullptr, 2),
                                  Context("dolibarr", 2, created.target_id));
  BOOST_TEST(refused.status == DeliveryStatus::kFailed);
  BOOST_TEST(refused.error.find("HTTP 409") != std::string::npos, refused.error);
  BOOST_TEST(refused.error.find("Can't delete") != std::string::npos, refused.error);

  // A key the target does not know: 401, permanent, and the key is not in the message.
  Fake().Config(R"({"bad_key_delay_ms":0})");
  config.settings["api_key"] = "wrong-key";
  auto bad_key = testing::MakeAdapter(config);
  auto denied = bad_key->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 3), Context("dolibarr", 3));
  BOOST_TEST(denied.status == DeliveryStatus::kFailed);
  BOOST_TEST(denied.error.find("HTTP 401") != std::string::npos, denied.error);
  BOOST_TEST(denied.error.find("wrong-key") == std::string::npos, denied.error);
}

BOOST_AUTO_TEST_CASE(two_third_parties_with_the_email_are_a_conflict_not_a_third) {
  dolibarr::DolibarrClient client(Fake().url() + "/api/index.php", "dolibarr-test-key",
                                  "department", {});
  dolibarr::ThirdPartyFields twin;
  twin.name = "Ada (CRM import)";
  twin.email = "ada@example.com";
  auto a = client.Create(twin);
  twin.name = "Ada (old)";
  twin.ref_ext = "someone-else";
  auto b = client.Create(twin);
  BOOST_TEST_REQUIRE((a.ok() && b.ok()));
  auto outcome = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(outcome.status == DeliveryStatus::kFailed);
  BOOST_TEST(outcome.error.find("conflict: Dolibarr third parties " + *a + ", " + *b +
                                " share the e-mail ada@example.com") != std::string::npos,
             outcome.error);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 2u);

  // With one of them carrying this user's SCIM id in ref_ext, that one is the user's.
  twin.name = "Ada (linked)";
  twin.ref_ext = "u-ada";
  auto c = client.Create(twin);
  BOOST_TEST_REQUIRE(c.ok());
  auto adopted = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 2), Context("dolibarr", 2));
  BOOST_TEST_REQUIRE(adopted.status == DeliveryStatus::kDelivered, adopted.error);
  BOOST_TEST(adopted.target_id.value_or("") == *c);
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 3u);
}

BOOST_AUTO_TEST_CASE(the_ref_ext_holder_wins_over_email_twins_even_past_the_lookup_limit) {
  dolibarr::DolibarrClient client(Fake().url() + "/api/index.php", "dolibarr-test-key",
                                  "department", {});
  dolibarr::ThirdPartyFields tp;
  // This user's third party under an older e-mail, then two twins holding the new one: the
  // ref_ext holder is updated, no conflict.
  tp.name = "Ada (moved)";
  tp.email = "ada.old@example.com";
  tp.ref_ext = "u-ada";
  auto mine = client.Create(tp);
  tp.email = "ada@example.com";
  tp.ref_ext = "someone-else";
  auto twin1 = client.Create(tp);
  tp.ref_ext.reset();
  auto twin2 = client.Create(tp);
  BOOST_TEST_REQUIRE((mine.ok() && twin1.ok() && twin2.ok()));
  auto outcome = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  BOOST_TEST(outcome.target_id.value_or("") == *mine);

  // Ten e-mail twins with lower ids fill the look-up's page (limit 10) before the ref_ext
  // holder: it is asked for alone and found, not reported as a conflict.
  Fake().Reset();
  tp.email = "ada@example.com";
  for (int i = 0; i < 10; ++i) {
    tp.ref_ext = "other-" + std::to_string(i);
    BOOST_TEST_REQUIRE(client.Create(tp).ok());
  }
  tp.ref_ext = "u-ada";
  auto late = client.Create(tp);
  BOOST_TEST_REQUIRE(late.ok());
  auto found = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 2), Context("dolibarr", 2));
  BOOST_TEST_REQUIRE(found.status == DeliveryStatus::kDelivered, found.error);
  BOOST_TEST(found.target_id.value_or("") == *late);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 11u);
}

BOOST_AUTO_TEST_CASE(email_unique_refusal_fails_the_record_naming_the_email) {
  Fake().Config(R"({"email_unique":true})");
  dolibarr::DolibarrClient client(Fake().url() + "/api/index.php", "dolibarr-test-key",
                                  "department", {});
  dolibarr::ThirdPartyFields other;
  other.name = "Someone Else";
  other.email = "ada@example.com";
  other.ref_ext = "u-other";
  auto held = client.Create(other);
  BOOST_TEST_REQUIRE(held.ok());
  auto outcome = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST(outcome.status == DeliveryStatus::kFailed);
  BOOST_TEST(outcome.error.find("HTTP 500") != std::string::npos, outcome.error);
  BOOST_TEST(outcome.error.find("SOCIETE_EMAIL_UNIQUE") != std::string::npos, outcome.error);
  BOOST_TEST(outcome.error.find("ada@example.com") != std::string::npos, outcome.error);

  // An update to a taken e-mail: Dolibarr's bare 500; the adapter names the holder.
  std::string bob = kAda;
  bob.replace(bob.find("ada@example.com"), 15, "bob@example.com");
  auto made = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-bob", Payload(bob), 2),
                               Context("dolibarr", 2));
  BOOST_TEST_REQUIRE(made.status == DeliveryStatus::kDelivered, made.error);
  std::string taken = kAda;
  auto moved = adapter->Deliver(MakeEvent(ChangeKind::kPatched, "User", "u-bob", Payload(taken), 3),
                                Context("dolibarr", 3, made.target_id));
  BOOST_TEST(moved.status == DeliveryStatus::kFailed);
  BOOST_TEST(moved.error.find("third party " + *held + " already has the e-mail ada@example.com") !=
                 std::string::npos,
             moved.error);
}

BOOST_AUTO_TEST_CASE(undefined_department_field_is_a_notice_not_a_silent_drop) {
  Fake().Config(R"({"department_extrafield":false})");
  config.settings["department_field_recheck_seconds"] = "1";
  adapter = testing::MakeAdapter(config);
  auto outcome = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  BOOST_TEST_REQUIRE(outcome.notices.count("department") == 1u);
  BOOST_TEST(outcome.notices["department"].value_or("").find(
                 "Dolibarr defines no extra field 'department'") != std::string::npos);
  json::Document state;
  Fake().State(state);
  BOOST_TEST_REQUIRE(Records(state, "thirdparties").Size() == 1u);
  BOOST_TEST(Str(Records(state, "thirdparties")[0], "email") == "ada@example.com");
  int asked = testing::CountRequests(state, "GET", "/api/index.php/setup/extrafields/societe/");
  BOOST_TEST(asked == 1);

  // Asked once: the next delivery neither asks nor repeats the notice.
  auto again = adapter->Deliver(AdaEvent(ChangeKind::kPatched, kAda, 2),
                                Context("dolibarr", 2, outcome.target_id));
  BOOST_TEST_REQUIRE(again.status == DeliveryStatus::kDelivered, again.error);
  BOOST_TEST(again.notices.empty());
  Fake().State(state);
  BOOST_TEST(testing::CountRequests(state, "GET", "/api/index.php/setup/extrafields/societe/") ==
             1);

  // Defined later: after the re-check interval the notice clears and the value goes out.
  Fake().Config(R"({"department_extrafield":true})");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto fixed = adapter->Deliver(AdaEvent(ChangeKind::kPatched, kAda, 3),
                                Context("dolibarr", 3, outcome.target_id));
  BOOST_TEST_REQUIRE(fixed.status == DeliveryStatus::kDelivered, fixed.error);
  BOOST_TEST_REQUIRE(fixed.notices.count("department") == 1u);
  BOOST_TEST(!fixed.notices["department"].has_value());
  Fake().State(state);
  BOOST_TEST(Str(Records(state, "thirdparties")[0]["array_options"], "options_department") ==
             "Engineering");
}

BOOST_AUTO_TEST_CASE(without_admin_rights_the_put_answer_tells_about_the_department_field) {
  Fake().Config(R"({"department_extrafield":false,"api_keys":{"clerk-key":{"login":"sync",
                   "rights":["lire","creer","supprimer"],"admin":false}}})");
  config.settings["api_key"] = "clerk-key";
  adapter = testing::MakeAdapter(config);
  auto created = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  BOOST_TEST(created.notices["department"].value_or("").find("cannot check") != std::string::npos,
             created.notices["department"].value_or(""));
  auto updated = adapter->Deliver(AdaEvent(ChangeKind::kPatched, kAda, 2),
                                  Context("dolibarr", 2, created.target_id));
  BOOST_TEST_REQUIRE(updated.status == DeliveryStatus::kDelivered, updated.error);
  BOOST_TEST(updated.notices["department"].value_or("").find(
                 "Dolibarr defines no extra field 'department'") != std::string::npos,
             updated.notices["department"].value_or("(cleared)") + " / " +
                 std::to_string(updated.notices.size()));
  auto again = adapter->Deliver(AdaEvent(ChangeKind::kPatched, kAda, 3),
                                Context("dolibarr", 3, created.target_id));
  BOOST_TEST_REQUIRE(again.status == DeliveryStatus::kDelivered, again.error);
  BOOST_TEST(again.notices.empty());
  json::Document state;
  Fake().State(state);
  const auto& log = testing::Requests(state);
  const auto& last = log[log.Size() - 1];
  BOOST_TEST(Str(last, "method") == "PUT");
  BOOST_TEST(!last["body"].HasMember("array_options"));  // no longer sent
}

BOOST_AUTO_TEST_CASE(answers_are_classified_by_status_and_cause) {
  auto answer = [](int status, const char* type, const char* body) {
    HttpResponse r;
    r.status = status;
    r.headers["content-type"] = type;
    r.body = body;
    return r;
  };
  const char* kJson = "application/json; charset=utf-8";
  using dolibarr::ClassifyAnswer;
  BOOST_TEST(!ClassifyAnswer("x", answer(200, kJson, "{\"id\":\"1\"}")));
  BOOST_TEST(!ClassifyAnswer(
      "x",
      answer(404, kJson, R"({"error":{"code":404,"message":"Not Found: Thirdparty not found"}})")));
  auto down = ClassifyAnswer(
      "dolibarr GET /thirdparties/1",
      answer(202, "text/html; charset=UTF-8", "<html><div>DolibarrHasDetectedError.</div></html>"));
  BOOST_TEST_REQUIRE(down.has_value());
  BOOST_TEST(down->Transient());
  BOOST_TEST(down->message.starts_with(
      "dolibarr GET /thirdparties/1: Dolibarr answered 202 with HTML: its database may be down"));
  auto module = ClassifyAnswer(
      "x", answer(200, "text/html; charset=UTF-8", "Module <b>Api</b> must be enabled.<br>"));
  BOOST_TEST_REQUIRE(module.has_value());
  BOOST_TEST(module->message.find("its API module is disabled") != std::string::npos);
  auto route =
      ClassifyAnswer("x", answer(404, kJson, R"({"error":{"code":404,"message":"Not Found"}})"));
  BOOST_TEST_REQUIRE(route.has_value());
  BOOST_TEST(!route->Transient());
  BOOST_TEST(route->message.find("no such API method") != std::string::npos);
  auto wrong_url = ClassifyAnswer("x", answer(404, "text/html", "<h1>Not Found</h1>"));
  BOOST_TEST_REQUIRE(wrong_url.has_value());
  BOOST_TEST(wrong_url->message.find("no Dolibarr API at this URL") != std::string::npos);
  auto key = ClassifyAnswer(
      "x", answer(401, kJson,
                  R"({"error":{"code":401,"message":"Unauthorized: Error user not valid"}})"));
  BOOST_TEST_REQUIRE(key.has_value());
  BOOST_TEST(!key->Transient());
  BOOST_TEST(key->message.find("HTTP 401: Dolibarr does not accept the API key") !=
             std::string::npos);
  auto rights =
      ClassifyAnswer("x", answer(403, kJson, R"({"error":{"code":403,"message":"Forbidden"}})"));
  BOOST_TEST_REQUIRE(rights.has_value());
  BOOST_TEST(rights->message.find("HTTP 403: the API key's Dolibarr user lacks a permission") !=
             std::string::npos);
  auto unique = ClassifyAnswer(
      "x",
      answer(
          500, kJson,
          R"j({"error":{"code":500,"message":"Internal Server Error: Error creating thirdparty","0":null,"1":"Email uniq@example.com is assigned to another third (Forbidden by setup rules)"}})j"));
  BOOST_TEST_REQUIRE(unique.has_value());
  BOOST_TEST(unique->code == std::string(dolibarr::kEmailTakenCode));
  BOOST_TEST(unique->message.find("uniq@example.com") != std::string::npos);
  auto plain500 = ClassifyAnswer(
      "x", answer(500, kJson, R"({"error":{"code":500,"message":"Internal Server Error"}})"));
  BOOST_TEST_REQUIRE(plain500.has_value());
  BOOST_TEST(plain500->code.empty());
  BOOST_TEST(plain500->Transient());
}

BOOST_AUTO_TEST_CASE(user_without_any_name_fails) {
  auto outcome = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-x", Payload(R"({"id":"u-x"})"), 1),
      Context("dolibarr", 1));
  BOOST_TEST(outcome.status == DeliveryStatus::kFailed);
  auto garbage = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-x", "{nope", 1),
                                  Context("dolibarr", 1));
  BOOST_TEST(garbage.status == DeliveryStatus::kFailed);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::adapters
