// The adapter registry, the factories' validation, and the shared helpers (no fakes needed).
#include <boost/test/unit_test.hpp>

#include "adapters/common/config_util.h"
#include "adapters/common/http_client.h"
#include "adapters/common/scim_resource.h"
#include "fake_server.h"

namespace scim::adapters {
namespace {

TargetConfig Config(const std::string& name, const std::string& type,
                    std::map<std::string, std::string> settings) {
  TargetConfig config;
  config.name = name;
  config.type = type;
  config.settings = std::move(settings);
  return config;
}

std::map<std::string, std::string> ValidSettings(const std::string& type) {
  if (type == "dolibarr") return {{"url", "http://127.0.0.1:1/api/index.php"}, {"api_key", "k"}};
  if (type == "zoho_books") {
    return {{"api_url", "http://127.0.0.1:1/books/v3"},
            {"accounts_url", "http://127.0.0.1:1/oauth/v2/token"},
            {"organization_id", "1"},
            {"client_id", "c"},
            {"client_secret", "s"},
            {"refresh_token", "r"}};
  }
  if (type == "crm") return {{"url", "http://127.0.0.1:1"}, {"token", "t"}};
  if (type == "clerk") return {{"secret_key", "sk_test_x"}};  // url defaults to Clerk's
  return {{"url", "http://127.0.0.1:1/events"}, {"secret", "s"}};
}

events::ChangeEvent Event(const std::string& type) {
  return testing::MakeEvent(events::ChangeKind::kCreated, type, "x", "{}", 1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(adapter_registry)

BOOST_AUTO_TEST_CASE(knows_every_built_in_type) {
  auto registry = DefaultAdapterRegistry();
  std::vector<std::string> expected = {"clerk", "crm", "dolibarr", "webhook", "zoho_books"};
  BOOST_TEST(registry.Types() == expected, boost::test_tools::per_element());
  for (const auto& type : expected) {
    auto adapter = registry.Create(Config("t-" + type, type, ValidSettings(type)));
    BOOST_TEST_REQUIRE(adapter.ok(), type);
    BOOST_TEST((*adapter)->Type() == type);
    BOOST_TEST((*adapter)->Name() == "t-" + type);
  }
}

BOOST_AUTO_TEST_CASE(unknown_type_is_named) {
  auto adapter = DefaultAdapterRegistry().Create(Config("erp", "sap", {}));
  BOOST_TEST_REQUIRE(!adapter.ok());
  BOOST_TEST(adapter.error().code == ErrorCode::kInvalidValue);
  BOOST_TEST(adapter.error().detail.find("\"sap\"") != std::string::npos, adapter.error().detail);
  BOOST_TEST(adapter.error().detail.find("\"erp\"") != std::string::npos, adapter.error().detail);
  BOOST_TEST(adapter.error().detail.find("zoho_books") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_required_key_is_checked) {
  for (const std::string type : {"dolibarr", "zoho_books", "crm", "webhook", "clerk"}) {
    for (const auto& [key, value] : ValidSettings(type)) {
      auto settings = ValidSettings(type);
      settings.erase(key);
      auto adapter = DefaultAdapterRegistry().Create(Config("mine", type, settings));
      BOOST_TEST_REQUIRE(!adapter.ok(), type + " without " + key);
      BOOST_TEST(adapter.error().code == ErrorCode::kInvalidValue);
      BOOST_TEST(
          adapter.error().detail == "target \"mine\": missing required setting \"" + key + "\"",
          adapter.error().detail);
      settings[key] = "";  // an empty ${ENV} is as good as missing
      BOOST_TEST(!DefaultAdapterRegistry().Create(Config("mine", type, settings)).ok());
    }
  }
}

BOOST_AUTO_TEST_CASE(values_are_validated) {
  auto settings = ValidSettings("crm");
  settings["url"] = "ftp://crm.example.com";
  auto bad_url = DefaultAdapterRegistry().Create(Config("crm", "crm", settings));
  BOOST_TEST_REQUIRE(!bad_url.ok());
  BOOST_TEST(bad_url.error().detail.find("\"url\"") != std::string::npos);

  settings = ValidSettings("zoho_books");
  settings["requests_per_minute"] = "many";
  auto bad_number = DefaultAdapterRegistry().Create(Config("zoho", "zoho_books", settings));
  BOOST_TEST_REQUIRE(!bad_number.ok());
  BOOST_TEST(bad_number.error().detail.find("requests_per_minute") != std::string::npos);
  settings["requests_per_minute"] = "0";
  BOOST_TEST(!DefaultAdapterRegistry().Create(Config("zoho", "zoho_books", settings)).ok());
  settings["requests_per_minute"] = "100";
  settings["role_mapping"] = "admin";
  auto bad_map = DefaultAdapterRegistry().Create(Config("zoho", "zoho_books", settings));
  BOOST_TEST_REQUIRE(!bad_map.ok());
  BOOST_TEST(bad_map.error().detail.find("role_mapping") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(resources_narrow_what_is_handled) {
  auto config = Config("crm", "crm", ValidSettings("crm"));
  auto both = DefaultAdapterRegistry().Create(config);
  BOOST_TEST_REQUIRE(both.ok());
  BOOST_TEST((*both)->Handles(Event("User")));
  BOOST_TEST((*both)->Handles(Event("Group")));

  config.resources = {"groups"};
  auto groups = DefaultAdapterRegistry().Create(config);
  BOOST_TEST_REQUIRE(groups.ok());
  BOOST_TEST(!(*groups)->Handles(Event("User")));
  BOOST_TEST((*groups)->Handles(Event("Group")));

  auto dolibarr = Config("dolibarr", "dolibarr", ValidSettings("dolibarr"));
  dolibarr.resources = {"Group"};
  auto unsupported = DefaultAdapterRegistry().Create(dolibarr);
  BOOST_TEST_REQUIRE(!unsupported.ok());
  BOOST_TEST(unsupported.error().detail.find("\"Group\" is not supported") != std::string::npos,
             unsupported.error().detail);
}

BOOST_AUTO_TEST_CASE(map_settings_flattened_or_inline) {
  auto config = Config("z", "zoho_books",
                       {{"role_mapping", "Admin=1, staff = 2"}, {"role_mapping.Sales", "3"}});
  auto map = MapSetting(config, "role_mapping");
  BOOST_TEST_REQUIRE(map.ok());
  BOOST_TEST(map->size() == 3u);
  BOOST_TEST(map->at("admin") == "1");
  BOOST_TEST(map->at("staff") == "2");
  BOOST_TEST(map->at("sales") == "3");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(adapter_helpers)

BOOST_AUTO_TEST_CASE(retry_after) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  BOOST_TEST(ParseRetryAfter("120", now).value_or(-1) == 120);
  BOOST_TEST(ParseRetryAfter(" 0 ", now).value_or(-1) == 0);
  BOOST_TEST(ParseRetryAfter("Wed, 21 Oct 2015 07:29:00 GMT", now).value_or(-1) == 60);
  BOOST_TEST(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now).value_or(-1) == 0);
  BOOST_TEST(!ParseRetryAfter("soon", now).has_value());
  BOOST_TEST(!ParseRetryAfter("", now).has_value());
}

BOOST_AUTO_TEST_CASE(url_helpers) {
  BOOST_TEST(UrlEncode("a b@c.d/é") == "a%20b%40c.d%2F%C3%A9");
  BOOST_TEST(UrlForLog("http://h/x/y?token=secret#f") == "http://h/x/y");
}

BOOST_AUTO_TEST_CASE(transport_errors_are_retried) {
  HttpClient client({std::chrono::milliseconds(500), std::chrono::milliseconds(1000)});
  HttpRequest request;
  request.url = "http://127.0.0.1:1/nothing?secret=x";  // nothing listens on port 1
  auto response = client.Send(request);
  BOOST_TEST_REQUIRE(!response.ok());
  BOOST_TEST(response.error().http_status == 0);
  BOOST_TEST(response.error().Transient());
  BOOST_TEST(response.error().ToOutcome().status == events::DeliveryStatus::kRetry);
  BOOST_TEST(response.error().message.find("secret") == std::string::npos,
             response.error().message);
  // Connection refused: the whole target is down, and the adapter is sure of it.
  BOOST_TEST(response.error().no_answer);
  BOOST_TEST(response.error().ToOutcome().target_unavailable);
  BOOST_TEST(response.error().ToOutcome().target_unreachable);
}

BOOST_AUTO_TEST_CASE(status_classification) {
  for (int status : {408, 429, 500, 502, 503, 504}) {
    CallError error;
    error.http_status = status;
    BOOST_TEST(error.Transient(), status);
  }
  for (int status : {301, 400, 401, 403, 404, 409, 410, 413, 422}) {
    CallError error;
    error.http_status = status;
    BOOST_TEST(!error.Transient(), status);
    BOOST_TEST(error.ToOutcome().status == events::DeliveryStatus::kFailed);
  }
  BOOST_TEST(!CallError::Permanent("x").Transient());
}

// Target-wide (an outage: the breaker's business) versus this record (the delivery's own
// attempts): 5xx and no answer are target-wide; 429 is rate limiting; 4xx and an unusable
// answer are about the call.
BOOST_AUTO_TEST_CASE(target_wide_classification) {
  for (int status : {500, 502, 503, 504}) {
    CallError error;
    error.http_status = status;
    auto outcome = error.ToOutcome();
    BOOST_TEST(outcome.target_unavailable, status);
    BOOST_TEST(!outcome.target_unreachable, status);
    BOOST_TEST(!outcome.rate_limited, status);
  }
  for (int status : {400, 408, 409, 422, 429}) {
    CallError error;
    error.http_status = status;
    BOOST_TEST(!error.ToOutcome().target_unavailable, status);
  }
  BOOST_TEST(!CallError::Transport("answer has no id").ToOutcome().target_unavailable);
  CallError timeout = CallError::Transport("GET /x: timed out");
  timeout.no_answer = true;
  BOOST_TEST(timeout.ToOutcome().target_unavailable);
  BOOST_TEST(!timeout.ToOutcome().target_unreachable);
}

BOOST_AUTO_TEST_CASE(scim_user_attributes) {
  auto parse = [](const std::string& resource) {
    auto event = testing::MakeEvent(events::ChangeKind::kCreated, "User", "u",
                                    testing::Payload(resource), 1);
    auto payload = EventPayload::Parse(event);
    BOOST_REQUIRE(payload.ok());
    return payload.value();
  };
  auto full = parse(R"({"DisplayName":"D","name":{"givenName":"G","familyName":"F"},"userName":"u",
    "Emails":[{"value":"a@x"},{"value":"b@x","primary":true}],"active":"False",
    "roles":[{"value":"sales"}],
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops"}})");
  BOOST_TEST(PersonName(*full.resource()) == "D");
  BOOST_TEST(PrimaryValue(*full.resource(), "emails").value_or("") == "b@x");
  BOOST_TEST(PrimaryValue(*full.resource(), "roles").value_or("") == "sales");
  BOOST_TEST(!PrimaryValue(*full.resource(), "phoneNumbers").has_value());
  BOOST_TEST(!IsActive(*full.resource()));
  BOOST_TEST(Department(*full.resource()).value_or("") == "Ops");

  BOOST_TEST(PersonName(*parse(R"({"name":{"givenName":"G","familyName":"F"},"userName":"u"})")
                             .resource()) == "G F");
  BOOST_TEST(PersonName(*parse(R"({"name":{"familyName":"F"},"userName":"u"})").resource()) == "F");
  BOOST_TEST(PersonName(*parse(R"({"userName":"u"})").resource()) == "u");
  BOOST_TEST(IsActive(*parse(R"({"userName":"u"})").resource()));

  auto deleted =
      EventPayload::Parse(testing::MakeEvent(events::ChangeKind::kDeleted, "User", "u", "{}", 1));
  BOOST_TEST_REQUIRE(deleted.ok());
  BOOST_TEST(deleted->resource() == nullptr);
  BOOST_TEST(
      !EventPayload::Parse(testing::MakeEvent(events::ChangeKind::kCreated, "User", "u", "{}", 1))
           .ok());
}

BOOST_AUTO_TEST_CASE(group_extension) {
  auto event = testing::MakeEvent(
      events::ChangeKind::kPatched, "Group", "g",
      testing::Payload(
          R"({"displayName":"S","urn:scimd:params:scim:schemas:extension:2.0:Group":{"kind":"Store","location":"L","address":{"formatted":"1 Main St"}}})",
          R"({"added":[{"value":"u1","type":"User","role":"admin"},"u2"],"removed":[{"value":"u3"}],"replaced":true})"),
      1);
  auto payload = EventPayload::Parse(event);
  BOOST_TEST_REQUIRE(payload.ok());
  BOOST_TEST((KindOfGroup(*payload->resource()) == GroupKind::kStore));
  BOOST_TEST(StoreAttr(*payload->resource(), "location").value_or("") == "L");
  BOOST_TEST(StoreAttr(*payload->resource(), "address").value_or("") == "1 Main St");
  BOOST_TEST(!StoreAttr(*payload->resource(), "phone").has_value());
  const auto& members = payload->members();
  BOOST_TEST(members.present);
  BOOST_TEST(members.replaced);
  BOOST_TEST_REQUIRE(members.added.size() == 2u);
  BOOST_TEST(members.added[0].role == "admin");
  BOOST_TEST(members.added[1].value == "u2");
  BOOST_TEST_REQUIRE(members.removed.size() == 1u);
  BOOST_TEST(members.removed[0].value == "u3");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::adapters
