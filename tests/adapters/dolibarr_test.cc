// The dolibarr adapter against tests/fakes/dolibarr_fake.py.
#include <boost/test/unit_test.hpp>

#include "adapters/dolibarr/dolibarr_client.h"
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
    config.settings = {{"url", Fake().url() + "/api/index.php"}, {"api_key", "dolibarr-test-key"},
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
}

BOOST_AUTO_TEST_CASE(update_deactivate_reactivate_delete) {
  auto created = adapter->Deliver(AdaEvent(ChangeKind::kCreated, kAda, 1), Context("dolibarr", 1));
  BOOST_TEST_REQUIRE(created.status == DeliveryStatus::kDelivered, created.error);
  std::string id = created.target_id.value();

  // Patched: new name from given + family name, new email, inactive, phone and department gone.
  auto updated = adapter->Deliver(AdaEvent(ChangeKind::kPatched, kAdaRenamed, 2),
                                  Context("dolibarr", 2, id));
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
  auto deleted = adapter->Deliver(AdaEvent(ChangeKind::kDeleted, nullptr, 4),
                                  Context("dolibarr", 4, id));
  BOOST_TEST(deleted.status == DeliveryStatus::kDelivered);
  BOOST_TEST(deleted.unlink);
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 0u);
  auto again = adapter->Deliver(AdaEvent(ChangeKind::kDeleted, nullptr, 4),
                                Context("dolibarr", 4, id));
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
  auto deleted = adapter->Deliver(AdaEvent(ChangeKind::kDeleted, nullptr, 2), Context("dolibarr", 2));
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
  auto second = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-twin", Payload(twin), 2),
                                 Context("dolibarr", 2));
  BOOST_TEST_REQUIRE(second.status == DeliveryStatus::kDelivered, second.error);
  BOOST_CHECK(second.target_id != first.target_id);
  json::Document state;
  Fake().State(state);
  BOOST_TEST(Records(state, "thirdparties").Size() == 2u);
}

BOOST_AUTO_TEST_CASE(stale_link_recreates) {
  auto outcome = adapter->Deliver(AdaEvent(ChangeKind::kPatched, kAda, 5), Context("dolibarr", 5, "999"));
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
  BOOST_TEST(html.error.find("not JSON") != std::string::npos, html.error);
  Fake().Config(R"({"module_disabled":false})");

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
