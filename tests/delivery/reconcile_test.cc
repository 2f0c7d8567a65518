// delivery::Reconcile against an in-memory target that can list its records: missing records
// are delivered again, lost links are found again, orphans scimd can prove are its own are
// deleted, everything else is left alone, and --dry-run changes nothing.

#include "scim/delivery/reconcile.h"

#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "delivery_test_support.h"
#include "scim/common/json.h"
#include "scim/common/strings.h"
#include "scim/events/reconcilable.h"
#include "scim/schema/registry.h"
#include "scim/store/resource_store.h"

namespace scim::delivery {
namespace {

using testing::Backend;
using testing::TestDatabase;

// A target holding users in memory, keyed by its own ids "r1", "r2", ...; it keeps the SCIM id
// on each record (like Dolibarr's ref_ext) and matches userName as the natural key.
class MemoryTarget : public events::TargetAdapter, public events::Reconcilable {
 public:
  std::string_view Name() const override { return "mem"; }
  std::string_view Type() const override { return "memory"; }
  bool Handles(const events::ChangeEvent& event) const override {
    return event.resource_type == "User";
  }
  events::Reconcilable* AsReconcilable() override { return this; }

  events::DeliveryOutcome Deliver(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) override {
    ++deliveries;
    if (event.kind == events::ChangeKind::kDeleted) {
      if (context.target_id) records.erase(*context.target_id);
      return events::DeliveryOutcome::Unlinked();
    }
    if (context.target_id && records.contains(*context.target_id)) {
      records[*context.target_id].scim_id = event.resource_id;
      return events::DeliveryOutcome::Delivered(context.target_id);
    }
    std::string id = "r" + std::to_string(++next_id);
    records[id] = {"User", id, event.resource_id, UserName(event)};
    return events::DeliveryOutcome::Delivered(id);
  }

  events::Expectation Expect(const events::ChangeEvent& current) const override {
    return {true, UserName(current)};
  }

  Result<events::RemoteInventory> Inventory(const std::vector<events::RemoteProbe>&) override {
    events::RemoteInventory inventory;
    for (const auto& [id, record] : records) inventory.records.push_back(record);
    return inventory;
  }

  // Adds a record as someone else (or an earlier scimd) would have.
  std::string Add(const std::string& scim_id, const std::string& natural_key) {
    std::string id = "r" + std::to_string(++next_id);
    records[id] = {"User", id, scim_id, natural_key};
    return id;
  }

  static std::string UserName(const events::ChangeEvent& event) {
    json::Document doc;
    if (!json::Parse(event.payload, doc).ok() || !doc.HasMember("resource")) return "";
    const json::Value& resource = doc["resource"];
    if (!resource.HasMember("userName") || !resource["userName"].IsString()) return "";
    return ToLower(resource["userName"].GetString());
  }

  std::map<std::string, events::RemoteRecord> records;
  int next_id = 0;
  int deliveries = 0;
};

// A target that cannot list anything.
class OpaqueTarget : public MemoryTarget {
 public:
  events::Reconcilable* AsReconcilable() override { return nullptr; }
};

struct Fixture {
  Fixture() : test_db(Backend::kSqlite), db(test_db.db()) {
    auto registry = schema::Registry::LoadEmbedded();
    BOOST_TEST_REQUIRE(registry.ok());
    store = std::make_unique<store::ResourceStore>(db, *registry);
  }

  std::string CreateUser(const std::string& user_name) {
    json::Document doc;
    std::string text =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
        "\"userName\":\"" +
        user_name + "\"}";
    BOOST_TEST_REQUIRE(json::Parse(text, doc).ok());
    auto created = store->Create(ctx, "User", std::move(doc), {}, std::nullopt);
    BOOST_TEST_REQUIRE(created.ok());
    return (*created)["id"].GetString();
  }

  void DeleteUser(const std::string& id) {
    BOOST_TEST_REQUIRE(store->Delete(ctx, "User", id, std::nullopt).ok());
  }

  // The dispatcher has fanned out every outbox event so far (nothing outstanding).
  void FannedOut() {
    testing::Exec(*db, "DELETE FROM target_cursors WHERE target = 'mem'");
    testing::Exec(*db,
                  "INSERT INTO target_cursors (target, type, last_seq, scanned_seq, updated) "
                  "SELECT 'mem', 'memory', MAX(seq), MAX(seq), 'now' FROM outbox");
  }

  void Link(const std::string& resource_id, const std::string& target_id) {
    testing::Exec(*db,
                  "INSERT INTO target_links (target, tenant, resource_type, resource_id, "
                  "external_id, updated) VALUES ('mem', 'default', 'User', '" +
                      resource_id + "', '" + target_id + "', 'now')");
  }

  std::string LinkOf(const std::string& resource_id) {
    auto id = store::testing::QueryText(
        *db, "SELECT external_id FROM target_links WHERE target = 'mem' AND resource_id = :r",
        {resource_id});
    BOOST_TEST_REQUIRE(id.ok());
    return id->value_or("<none>");
  }

  ReconcileReport Run(bool dry_run = false) {
    auto report = Reconcile(*db, target, {dry_run});
    BOOST_TEST_REQUIRE(report.ok(), (report.ok() ? "" : report.error().detail));
    return *report;
  }

  TestDatabase test_db;
  std::shared_ptr<store::Database> db;
  std::unique_ptr<store::ResourceStore> store;
  store::WriteContext ctx{"default", "tester"};
  MemoryTarget target;
};

BOOST_AUTO_TEST_SUITE(reconcile)

BOOST_FIXTURE_TEST_CASE(missing_record_is_delivered_again_and_relinked, Fixture) {
  std::string uid = CreateUser("ada");
  FannedOut();
  Link(uid, "r77");  // the target lost r77

  ReconcileReport report = Run();
  BOOST_TEST(report.missing == 1);
  BOOST_TEST(report.repaired == 1);
  BOOST_TEST(report.errors == 0);
  BOOST_TEST_REQUIRE(target.records.size() == 1u);
  const events::RemoteRecord& record = target.records.begin()->second;
  BOOST_TEST(record.scim_id == uid);
  BOOST_TEST(LinkOf(uid) == record.target_id);

  ReconcileReport again = Run();
  BOOST_TEST(again.missing + again.unlinked + again.relinked + again.orphaned == 0);
  BOOST_TEST(target.records.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(unlinked_resource_is_relinked_by_scim_id_then_natural_key, Fixture) {
  std::string ada = CreateUser("ada");
  std::string bob = CreateUser("bob");
  std::string cyd = CreateUser("cyd");
  FannedOut();
  std::string ada_record = target.Add(ada, "ada");
  std::string bob_record = target.Add("", "bob");           // same natural key, no SCIM id
  std::string foreign = target.Add("other-system", "cyd");  // someone else's: not adopted

  ReconcileReport report = Run();
  BOOST_TEST(report.relinked == 2);
  BOOST_TEST(report.unlinked == 1);  // cyd: created
  BOOST_TEST(report.repaired == 1);
  BOOST_TEST(report.errors == 0);
  BOOST_TEST(LinkOf(ada) == ada_record);
  BOOST_TEST(LinkOf(bob) == bob_record);
  BOOST_TEST(LinkOf(cyd) != foreign);
  BOOST_TEST(target.records.size() == 4u);
  BOOST_TEST(target.records.contains(foreign));
}

BOOST_FIXTURE_TEST_CASE(orphans_are_deleted_only_when_provably_scimds, Fixture) {
  std::string gone = CreateUser("gone");
  std::string linked_gone = CreateUser("linked-gone");
  DeleteUser(gone);
  DeleteUser(linked_gone);
  FannedOut();
  std::string orphan = target.Add(gone, "gone");  // carries a SCIM id scimd deleted
  std::string linked = target.Add("", "x");       // linked to a resource that is gone
  Link(linked_gone, linked);
  std::string stranger = target.Add("never-issued", "y");
  std::string customer = target.Add("", "z");

  ReconcileReport dry = Run(/*dry_run=*/true);
  BOOST_TEST(dry.orphaned == 2);
  BOOST_TEST(target.records.size() == 4u);
  BOOST_TEST(LinkOf(linked_gone) == linked);
  BOOST_TEST(target.deliveries == 0);

  ReconcileReport report = Run();
  BOOST_TEST(report.orphaned == 2);
  BOOST_TEST(report.errors == 0);
  BOOST_TEST(!target.records.contains(orphan));
  BOOST_TEST(!target.records.contains(linked));
  BOOST_TEST(target.records.contains(stranger));
  BOOST_TEST(target.records.contains(customer));
  BOOST_TEST(LinkOf(linked_gone) == "<none>");
}

BOOST_FIXTURE_TEST_CASE(dry_run_changes_nothing, Fixture) {
  std::string uid = CreateUser("ada");
  std::string other = CreateUser("bob");
  FannedOut();
  Link(uid, "r99");

  ReconcileReport report = Run(/*dry_run=*/true);
  BOOST_TEST(report.missing == 1);
  BOOST_TEST(report.unlinked == 1);
  BOOST_TEST(report.repaired == 0);
  BOOST_TEST(target.deliveries == 0);
  BOOST_TEST(target.records.empty());
  BOOST_TEST(LinkOf(uid) == "r99");
  BOOST_TEST(LinkOf(other) == "<none>");
  BOOST_TEST(ReconcileReportText("mem", report, true).find("dry run: mem: checked 2, missing 1") !=
             std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(resources_with_outstanding_deliveries_are_skipped, Fixture) {
  std::string uid = CreateUser("ada");  // its outbox event is not fanned out to "mem" yet
  ReconcileReport report = Run();
  BOOST_TEST(report.skipped == 1);
  BOOST_TEST(target.deliveries == 0);
  BOOST_TEST(LinkOf(uid) == "<none>");
}

BOOST_FIXTURE_TEST_CASE(a_target_that_cannot_list_is_refused, Fixture) {
  OpaqueTarget opaque;
  auto report = Reconcile(*db, opaque, {});
  BOOST_TEST_REQUIRE(!report.ok());
  BOOST_TEST((report.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(report.error().detail.find("cannot be reconciled") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::delivery
