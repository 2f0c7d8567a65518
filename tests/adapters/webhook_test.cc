// The webhook adapter (signed SCIM events, RFC 9967 / 8417 / 8935) against
// tests/fakes/webhook_receiver.py, which verifies the signatures.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "adapters/webhook/set_signer.h"
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
  static FakeServer fake("webhook");
  return fake;
}

constexpr const char* kPrefix = "urn:ietf:params:scim:event:";

struct WebhookFixture {
  WebhookFixture() {
    Fake().Reset();
    config.name = "events";
    config.type = "webhook";
    config.settings = {{"url", Fake().url() + "/events"},
                       {"algorithm", "HS256"},
                       {"secret", "webhook-test-secret"},
                       {"timeout_ms", "5000"}};
    adapter = testing::MakeAdapter(config);
  }

  // The events the receiver accepted.
  const json::Value& Received(json::Document& state) {
    Fake().State(state);
    return Records(state, "events");
  }

  TargetConfig config;
  std::unique_ptr<events::TargetAdapter> adapter;
};

const char* kUser = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1",
  "externalId":"ext-1","userName":"ada","active":true,"meta":{"resourceType":"User","version":"W/\"3\""}})";

// An RSA key pair of `bits`: the private key written as PKCS#8 PEM to `path`, the public key
// returned as SPKI PEM.
std::string MakeRsaKey(const std::string& path, unsigned bits) {
  EVP_PKEY* key = EVP_RSA_gen(bits);
  BOOST_REQUIRE(key != nullptr);
  FILE* file = fopen(path.c_str(), "w");
  BOOST_REQUIRE(file != nullptr);
  BOOST_REQUIRE(PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  fclose(file);
  BIO* bio = BIO_new(BIO_s_mem());
  BOOST_REQUIRE(PEM_write_bio_PUBKEY(bio, key) == 1);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

std::string JsonString(const std::string& s) {
  json::Document d;
  return json::Serialize(json::String(s, d.GetAllocator()));
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(webhook, WebhookFixture)

BOOST_AUTO_TEST_CASE(created_user_as_signed_set_hs256) {
  BOOST_TEST(adapter->Handles(MakeEvent(ChangeKind::kCreated, "Group", "g", "{}", 1)));
  auto outcome = adapter->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 12),
                                  Context("events", 12));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  BOOST_TEST(!outcome.target_id.has_value());

  json::Document state;
  const auto& received = Received(state);
  BOOST_TEST_REQUIRE(received.Size() == 1u);
  const auto& set = received[0];
  BOOST_TEST(set["warnings"].Size() == 0u);
  BOOST_TEST(Str(set["header"], "alg") == "HS256");
  BOOST_TEST(Str(set["header"], "typ") == "secevent+jwt");
  const auto& claims = set["claims"];
  BOOST_TEST(Str(claims, "iss") == "scimd");
  BOOST_TEST(Str(claims, "jti") == "events:12");
  BOOST_TEST(Str(claims, "txn") == "12");
  BOOST_TEST(claims["iat"].IsInt64());
  BOOST_TEST(claims["toe"].GetInt64() == 1795274760);  // 2026-11-21T15:26:00Z
  BOOST_TEST(Str(claims["sub_id"], "format") == "scim");
  BOOST_TEST(Str(claims["sub_id"], "uri") == "/Users/u-1");
  BOOST_TEST(Str(claims["sub_id"], "externalId") == "ext-1");
  BOOST_TEST(!claims.HasMember("aud"));
  const auto& events = claims["events"];
  BOOST_TEST_REQUIRE(events.MemberCount() == 1u);
  std::string uri = std::string(kPrefix) + "prov:create:full";
  BOOST_TEST_REQUIRE(events.HasMember(uri.c_str()));
  const auto& body = events[uri.c_str()];
  BOOST_TEST(Str(body["data"], "id") == "u-1");
  BOOST_TEST(Str(body["data"], "userName") == "ada");
  BOOST_TEST(Str(body, "version") == "W/\"12\"");

  // The request itself (RFC 8935).
  const auto& request = testing::Requests(state)[0];
  BOOST_TEST(Str(request["headers"], "content-type") == "application/secevent+jwt");
  BOOST_TEST(request["status"].GetInt() == 202);
}

BOOST_AUTO_TEST_CASE(replace_patch_delete_and_groups) {
  auto put = adapter->Deliver(MakeEvent(ChangeKind::kReplaced, "User", "u-1", Payload(kUser), 2),
                              Context("events", 2));
  BOOST_TEST_REQUIRE(put.status == DeliveryStatus::kDelivered, put.error);
  auto patch = adapter->Deliver(MakeEvent(ChangeKind::kPatched, "User", "u-1", Payload(kUser), 3),
                                Context("events", 3));
  BOOST_TEST_REQUIRE(patch.status == DeliveryStatus::kDelivered, patch.error);
  auto gone = adapter->Deliver(MakeEvent(ChangeKind::kDeleted, "User", "u-1", "{}", 4),
                               Context("events", 4));
  BOOST_TEST_REQUIRE(gone.status == DeliveryStatus::kDelivered, gone.error);
  std::string group = R"({"id":"g-1","displayName":"Ops"})";
  std::string members =
      R"({"added":[{"value":"u-1","type":"User","role":"member"}],"removed":[{"value":"u-2","type":"User"}],"replaced":false})";
  auto group_patch = adapter->Deliver(
      MakeEvent(ChangeKind::kPatched, "Group", "g-1", Payload(group, members), 5),
      Context("events", 5));
  BOOST_TEST_REQUIRE(group_patch.status == DeliveryStatus::kDelivered, group_patch.error);
  std::string all = R"({"added":[{"value":"u-1","type":"User"}],"removed":[],"replaced":false})";
  auto group_create = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "Group", "g-1", Payload(group, all), 6), Context("events", 6));
  BOOST_TEST_REQUIRE(group_create.status == DeliveryStatus::kDelivered, group_create.error);

  json::Document state;
  const auto& received = Received(state);
  BOOST_TEST_REQUIRE(received.Size() == 5u);
  for (const auto& set : received.GetArray()) BOOST_TEST(set["warnings"].Size() == 0u);

  auto event_of = [&](int i, const std::string& name) -> const json::Value& {
    const auto& events = received[i]["claims"]["events"];
    std::string uri = std::string(kPrefix) + name;
    BOOST_REQUIRE_MESSAGE(events.HasMember(uri.c_str()), "SET " + std::to_string(i) + " lacks " + uri);
    return events[uri.c_str()];
  };
  BOOST_TEST(Str(event_of(0, "prov:put:full")["data"], "id") == "u-1");

  const auto& patch_op = event_of(1, "prov:patch:full")["data"];
  BOOST_TEST(patch_op["schemas"][0].GetString() ==
             std::string("urn:ietf:params:scim:api:messages:2.0:PatchOp"));
  const auto& replace = patch_op["Operations"][0];
  BOOST_TEST(Str(replace, "op") == "replace");
  BOOST_TEST(Str(replace["value"], "userName") == "ada");
  BOOST_TEST(!replace["value"].HasMember("id"));
  BOOST_TEST(!replace["value"].HasMember("meta"));

  BOOST_TEST(event_of(2, "prov:delete").MemberCount() == 0u);
  BOOST_TEST(Str(received[2]["claims"]["sub_id"], "uri") == "/Users/u-1");

  BOOST_TEST(Str(received[3]["claims"]["sub_id"], "uri") == "/Groups/g-1");
  const auto& ops = event_of(3, "prov:patch:full")["data"]["Operations"];
  BOOST_TEST_REQUIRE(ops.Size() == 3u);
  BOOST_TEST(Str(ops[1], "op") == "add");
  BOOST_TEST(Str(ops[1]["value"][0], "value") == "u-1");
  BOOST_TEST(Str(ops[2], "op") == "remove");
  BOOST_TEST(Str(ops[2], "path") == "members[value eq \"u-2\"]");

  const auto& created_group = event_of(4, "prov:create:full")["data"];
  BOOST_TEST(Str(created_group, "displayName") == "Ops");
  BOOST_TEST(Str(created_group["members"][0], "value") == "u-1");
}

// A replace or patch that flips `active` (the store's "active_before") also carries
// prov:deactivate / prov:activate in the same SET (RFC 9967: one state change, several URIs).
BOOST_AUTO_TEST_CASE(active_flips_add_activate_and_deactivate) {
  std::string inactive = R"({"id":"u-1","userName":"ada","active":false})";
  std::string active = R"({"id":"u-1","userName":"ada","active":true})";
  auto deliver = [&](ChangeKind kind, const std::string& payload, int64_t seq) {
    auto outcome =
        adapter->Deliver(MakeEvent(kind, "User", "u-1", payload, seq), Context("events", seq));
    BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  };
  deliver(ChangeKind::kPatched, R"({"resource":)" + inactive + R"(,"active_before":true})", 1);
  deliver(ChangeKind::kReplaced, R"({"resource":)" + active + R"(,"active_before":false})", 2);
  deliver(ChangeKind::kPatched, Payload(active), 3);    // active unchanged
  deliver(ChangeKind::kCreated, Payload(inactive), 4);  // a create is no flip

  json::Document state;
  const auto& received = Received(state);
  BOOST_TEST_REQUIRE(received.Size() == 4u);
  auto uris = [&](int i) {
    std::vector<std::string> out;
    const auto& events = received[i]["claims"]["events"];
    for (auto it = events.MemberBegin(); it != events.MemberEnd(); ++it) {
      out.emplace_back(it->name.GetString());
    }
    return out;
  };
  std::string p = kPrefix;
  BOOST_TEST((uris(0) == std::vector<std::string>{p + "prov:patch:full", p + "prov:deactivate"}));
  BOOST_TEST(received[0]["claims"]["events"][(p + "prov:deactivate").c_str()].MemberCount() == 0u);
  BOOST_TEST((uris(1) == std::vector<std::string>{p + "prov:put:full", p + "prov:activate"}));
  BOOST_TEST((uris(2) == std::vector<std::string>{p + "prov:patch:full"}));
  BOOST_TEST((uris(3) == std::vector<std::string>{p + "prov:create:full"}));
}

BOOST_AUTO_TEST_CASE(rs256_signature_verified_by_the_receiver) {
  std::string key_file = Fake().dir() + "/scimd-rs256.pem";
  std::string public_pem = MakeRsaKey(key_file, 2048);
  Fake().Config(R"({"algorithm":"RS256","public_key_pem":)" + JsonString(public_pem) + "}");
  config.settings = {{"url", Fake().url() + "/events"},
                     {"algorithm", "RS256"},
                     {"private_key_file", key_file},
                     {"key_id", "scimd-2026"},
                     {"issuer", "https://id.example.com/scim/v2"},
                     {"audience", "https://crm.example.com/scim-events"}};
  auto rs256 = testing::MakeAdapter(config);
  auto outcome = rs256->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 3),
                                Context("events", 3));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  json::Document state;
  const auto& received = Received(state);
  BOOST_TEST_REQUIRE(received.Size() == 1u);
  BOOST_TEST(Str(received[0]["header"], "alg") == "RS256");
  BOOST_TEST(Str(received[0]["header"], "kid") == "scimd-2026");
  BOOST_TEST(Str(received[0]["claims"], "iss") == "https://id.example.com/scim/v2");
  BOOST_TEST(Str(received[0]["claims"], "aud") == "https://crm.example.com/scim-events");

  // A receiver holding another key refuses the signature: permanent, with the RFC 8935 code.
  std::string other_pem = MakeRsaKey(Fake().dir() + "/other.pem", 2048);
  Fake().Config(R"({"public_key_pem":)" + JsonString(other_pem) + "}");
  auto refused = rs256->Deliver(MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 3),
                                Context("events", 3));
  BOOST_TEST(refused.status == DeliveryStatus::kFailed);
  BOOST_TEST(refused.error.find("invalid_key") != std::string::npos, refused.error);
}

BOOST_AUTO_TEST_CASE(rs256_configuration_is_validated) {
  config.settings["algorithm"] = "RS256";
  auto missing = DefaultAdapterRegistry().Create(config);
  BOOST_TEST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().detail.find("private_key_file") != std::string::npos);

  config.settings["private_key_file"] = Fake().dir() + "/does-not-exist.pem";
  auto unreadable = DefaultAdapterRegistry().Create(config);
  BOOST_TEST_REQUIRE(!unreadable.ok());
  BOOST_TEST(unreadable.error().code == ErrorCode::kInvalidValue);
  BOOST_TEST(unreadable.error().detail.find("events") != std::string::npos);

  std::string small = Fake().dir() + "/small.pem";
  MakeRsaKey(small, 1024);
  config.settings["private_key_file"] = small;
  auto weak = DefaultAdapterRegistry().Create(config);
  BOOST_TEST_REQUIRE(!weak.ok());
  BOOST_TEST(weak.error().detail.find("2048") != std::string::npos);

  config.settings["algorithm"] = "none";
  auto unsigned_set = DefaultAdapterRegistry().Create(config);
  BOOST_TEST_REQUIRE(!unsigned_set.ok());
  BOOST_TEST(unsigned_set.error().detail.find("algorithm") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_secret_audience_or_token_fail) {
  config.settings["secret"] = "not-the-receivers-secret";
  auto wrong = testing::MakeAdapter(config)->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 1), Context("events", 1));
  BOOST_TEST(wrong.status == DeliveryStatus::kFailed);
  BOOST_TEST(wrong.error.find("HTTP 400") != std::string::npos, wrong.error);
  BOOST_TEST(wrong.error.find("invalid_key") != std::string::npos, wrong.error);
  BOOST_TEST(wrong.error.find("not-the-receivers-secret") == std::string::npos, wrong.error);

  Fake().Config(R"({"audience":"https://crm.example.com/scim-events"})");
  auto no_audience = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 1), Context("events", 1));
  BOOST_TEST(no_audience.status == DeliveryStatus::kFailed);
  BOOST_TEST(no_audience.error.find("invalid_audience") != std::string::npos, no_audience.error);

  config.settings["secret"] = "webhook-test-secret";
  config.settings["audience"] = "https://other.example.com, https://crm.example.com/scim-events";
  auto two = testing::MakeAdapter(config)->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 1), Context("events", 1));
  BOOST_TEST(two.status == DeliveryStatus::kDelivered, two.error);

  Fake().Config(R"({"audience":null,"bearer_token":"receiver-token"})");
  auto no_token = adapter->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 1), Context("events", 1));
  BOOST_TEST(no_token.status == DeliveryStatus::kFailed);
  BOOST_TEST(no_token.error.find("HTTP 401") != std::string::npos, no_token.error);
  config.settings["bearer_token"] = "receiver-token";
  config.settings.erase("audience");
  auto with_token = testing::MakeAdapter(config)->Deliver(
      MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 1), Context("events", 1));
  BOOST_TEST(with_token.status == DeliveryStatus::kDelivered, with_token.error);
}

BOOST_AUTO_TEST_CASE(retries_keep_the_same_jti) {
  Fake().Mode(R"({"mode":"error503","count":1,"retry_after":30})");
  auto event = MakeEvent(ChangeKind::kCreated, "User", "u-1", Payload(kUser), 8);
  auto busy = adapter->Deliver(event, Context("events", 8));
  BOOST_TEST(busy.status == DeliveryStatus::kRetry);
  BOOST_TEST(busy.retry_after_seconds.value_or(0) == 30);
  Fake().Mode(R"({"mode":"down","count":3})");
  auto down = adapter->Deliver(event, Context("events", 8));
  BOOST_TEST(down.status == DeliveryStatus::kRetry);
  Fake().Mode(R"({"mode":"normal"})");
  Fake().Mode(R"({"mode":"fail_after_apply","count":1})");
  auto lost = adapter->Deliver(event, Context("events", 8));
  BOOST_TEST(lost.status == DeliveryStatus::kRetry);
  auto ok = adapter->Deliver(event, Context("events", 8));
  BOOST_TEST(ok.status == DeliveryStatus::kDelivered, ok.error);

  json::Document state;
  const auto& received = Received(state);
  BOOST_TEST_REQUIRE(received.Size() == 2u);  // the receiver saw it twice, one id: it dedupes
  BOOST_TEST(Str(received[0], "jti") == "events:8");
  BOOST_TEST(Str(received[1], "jti") == "events:8");
  BOOST_TEST(received[1]["duplicate"].GetBool());
}

BOOST_AUTO_TEST_CASE(base64url) {
  using webhook::Base64UrlEncode;
  BOOST_TEST(Base64UrlEncode("") == "");
  BOOST_TEST(Base64UrlEncode("f") == "Zg");
  BOOST_TEST(Base64UrlEncode("fo") == "Zm8");
  BOOST_TEST(Base64UrlEncode("foo") == "Zm9v");
  BOOST_TEST(Base64UrlEncode("\xfb\xff\xbf") == "-_-_");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::adapters
