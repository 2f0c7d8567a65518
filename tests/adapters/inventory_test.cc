// The adapters' reconciliation capability (scim/events/reconcilable.h) against the fakes of
// tests/fakes/: full listings with paging (Dolibarr, Zoho Books), probes (CRM), expectations.
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>

#include "adapters/dolibarr/dolibarr_client.h"
#include "fake_server.h"
#include "scim/events/reconcilable.h"

namespace scim::adapters {
namespace {

using events::ChangeKind;
using events::DeliveryStatus;
using testing::Context;
using testing::FakeServer;
using testing::MakeEvent;
using testing::Payload;

FakeServer& Fake(const std::string& kind) {
  static std::map<std::string, std::unique_ptr<FakeServer>> fakes;
  auto& fake = fakes[kind];
  if (!fake) fake = std::make_unique<FakeServer>(kind);
  return *fake;
}

std::string User(const std::string& id, const std::string& email, bool active = true) {
  return R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":")" + id +
         R"(","userName":")" + id + R"(","displayName":"User )" + id + R"(","active":)" +
         (active ? "true" : "false") + R"(,"emails":[{"value":")" + email +
         R"(","primary":true}]})";
}

events::ChangeEvent UserEvent(const std::string& id, const std::string& email, int64_t seq,
                              bool active = true) {
  return MakeEvent(ChangeKind::kCreated, "User", id, Payload(User(id, email, active)), seq);
}

// Delivers and returns the new link.
std::string Deliver(events::TargetAdapter& adapter, const events::ChangeEvent& event,
                    std::optional<std::string> target_id = std::nullopt) {
  auto outcome = adapter.Deliver(event, Context(std::string(adapter.Name()), event.seq, target_id));
  BOOST_TEST_REQUIRE(outcome.status == DeliveryStatus::kDelivered, outcome.error);
  return outcome.target_id.value_or("");
}

events::RemoteInventory InventoryOf(events::TargetAdapter& adapter,
                                    const std::vector<events::RemoteProbe>& probes = {}) {
  events::Reconcilable* target = adapter.AsReconcilable();
  BOOST_TEST_REQUIRE(target != nullptr);
  auto inventory = target->Inventory(probes);
  BOOST_TEST_REQUIRE(inventory.ok(), (inventory.ok() ? "" : inventory.error().detail));
  return std::move(inventory).value();
}

const events::RemoteRecord* Find(const events::RemoteInventory& inventory, const std::string& id) {
  for (const auto& r : inventory.records) {
    if (r.target_id == id) return &r;
  }
  return nullptr;
}

TargetConfig Config(const std::string& type, std::map<std::string, std::string> settings) {
  TargetConfig config;
  config.name = type;
  config.type = type;
  config.settings = std::move(settings);
  config.settings["timeout_ms"] = "5000";
  return config;
}

TargetConfig DolibarrConfig() {
  FakeServer& fake = Fake("dolibarr");
  fake.Reset();
  return Config("dolibarr",
                {{"url", fake.url() + "/api/index.php"}, {"api_key", "dolibarr-test-key"}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(inventory)

BOOST_AUTO_TEST_CASE(dolibarr_lists_every_third_party_page_by_page) {
  TargetConfig config = DolibarrConfig();
  auto adapter = testing::MakeAdapter(config);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    std::string id = "u-" + std::to_string(i);
    ids.push_back(Deliver(*adapter, UserEvent(id, id + "@Example.com", i + 1)));
  }
  // Four records in pages of two: the third page is Dolibarr's 404 "not found" (dolibarr.md).
  dolibarr::DolibarrClient client(config.settings["url"], "dolibarr-test-key", "department", {});
  auto pages_of_two = client.ListAll(2);
  BOOST_TEST_REQUIRE(pages_of_two.ok());
  BOOST_TEST(pages_of_two->size() == 4u);
  auto pages_of_three = client.ListAll(3);
  BOOST_TEST_REQUIRE(pages_of_three.ok());
  BOOST_TEST(pages_of_three->size() == 4u);

  events::RemoteInventory inventory = InventoryOf(*adapter);
  BOOST_TEST(inventory.complete);
  BOOST_TEST_REQUIRE(inventory.records.size() == 4u);
  const events::RemoteRecord* first = Find(inventory, ids[0]);
  BOOST_TEST_REQUIRE(first != nullptr);
  BOOST_TEST(first->resource_type == "User");
  BOOST_TEST(first->scim_id == "u-0");
  BOOST_TEST(first->natural_key == "u-0@example.com");
}

BOOST_AUTO_TEST_CASE(dolibarr_expects_named_users_only) {
  auto adapter = testing::MakeAdapter(DolibarrConfig());
  events::Reconcilable* target = adapter->AsReconcilable();
  BOOST_TEST_REQUIRE(target != nullptr);
  events::Expectation user = target->Expect(UserEvent("u-1", "Ada@Example.com", 1));
  BOOST_TEST(user.should_exist);
  BOOST_TEST(user.natural_key == "ada@example.com");
  BOOST_TEST(!target->Expect(MakeEvent(ChangeKind::kReplaced, "Group", "g", Payload("{}"), 1))
                  .should_exist);
  BOOST_TEST(InventoryOf(*adapter).records.empty());  // an empty list is a 404 at Dolibarr
}

BOOST_AUTO_TEST_CASE(zoho_lists_users_but_not_deleted_ones_and_expects_active_users) {
  FakeServer& fake = Fake("zoho_books");
  fake.Reset();
  auto adapter =
      testing::MakeAdapter(Config("zoho_books", {{"api_url", fake.url() + "/books/v3"},
                                                 {"accounts_url", fake.url() + "/oauth/v2/token"},
                                                 {"organization_id", "10234695"},
                                                 {"client_id", "1000.FAKECLIENTID"},
                                                 {"client_secret", "fake-client-secret"},
                                                 {"refresh_token", "1000.fake-refresh-token"}}));
  std::string kept = Deliver(*adapter, UserEvent("u-1", "one@example.com", 1));
  std::string gone = Deliver(*adapter, UserEvent("u-2", "two@example.com", 2));
  auto deleted = adapter->Deliver(MakeEvent(ChangeKind::kDeleted, "User", "u-2", "{}", 3),
                                  Context("zoho", 3, gone));
  BOOST_TEST(deleted.unlink);

  events::RemoteInventory inventory = InventoryOf(*adapter);
  BOOST_TEST(inventory.complete);
  const events::RemoteRecord* one = Find(inventory, kept);
  BOOST_TEST_REQUIRE(one != nullptr);
  BOOST_TEST(one->natural_key == "one@example.com");
  BOOST_TEST(one->scim_id.empty());  // Zoho users carry no SCIM id
  BOOST_TEST(Find(inventory, gone) == nullptr);

  events::Reconcilable* target = adapter->AsReconcilable();
  BOOST_TEST(target->Expect(UserEvent("u-3", "three@example.com", 4)).should_exist);
  BOOST_TEST(!target->Expect(UserEvent("u-3", "three@example.com", 4, false)).should_exist);
}

BOOST_AUTO_TEST_CASE(crm_answers_probes_only) {
  FakeServer& fake = Fake("crm");
  fake.Reset();
  auto adapter =
      testing::MakeAdapter(Config("crm", {{"url", fake.url()}, {"token", "crm-test-token"}}));
  std::string linked = Deliver(*adapter, UserEvent("u-1", "one@example.com", 1));
  std::string unlinked = Deliver(*adapter, UserEvent("u-2", "two@example.com", 2));
  const std::string org_group =
      R"({"id":"g-org","displayName":"Org","urn:scimd:params:scim:schemas:extension:2.0:Group":{"kind":"organization"}})";
  std::string org =
      Deliver(*adapter, MakeEvent(ChangeKind::kCreated, "Group", "g-org", Payload(org_group), 3));

  events::RemoteInventory inventory =
      InventoryOf(*adapter, {{"User", "u-1", linked},
                             {"User", "u-2", std::nullopt},
                             {"User", "u-9", std::string("crm_u_999")},
                             {"Group", "g-org", org},
                             {"Group", "g-gone", std::string("crm_o_999")},
                             {"Group", "g-store", std::string("g-store")}});
  BOOST_TEST(!inventory.complete);
  BOOST_TEST(inventory.records.size() == 3u);
  BOOST_TEST_REQUIRE(Find(inventory, linked) != nullptr);
  BOOST_TEST(Find(inventory, linked)->scim_id == "u-1");
  BOOST_TEST_REQUIRE(Find(inventory, unlinked) != nullptr);
  BOOST_TEST(Find(inventory, unlinked)->scim_id == "u-2");
  BOOST_TEST(Find(inventory, org) != nullptr);
  BOOST_TEST(Find(inventory, "crm_o_999") == nullptr);
  BOOST_TEST(inventory.unchecked.contains("g-store"));

  events::Reconcilable* target = adapter->AsReconcilable();
  BOOST_TEST(
      target->Expect(MakeEvent(ChangeKind::kReplaced, "Group", "g-org", Payload(org_group), 4))
          .should_exist);
  BOOST_TEST(!target
                  ->Expect(MakeEvent(ChangeKind::kReplaced, "Group", "g-plain",
                                     Payload(R"({"displayName":"Plain"})"), 4))
                  .should_exist);
}

BOOST_AUTO_TEST_CASE(webhook_is_not_reconcilable) {
  auto adapter = testing::MakeAdapter(Config(
      "webhook", {{"url", "http://127.0.0.1:9/events"}, {"algorithm", "HS256"}, {"secret", "s"}}));
  BOOST_TEST(adapter->AsReconcilable() == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::adapters
