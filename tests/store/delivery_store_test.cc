// The delivery tables through store's interface (scim/store/delivery_store.h and
// delivery_status.h): fan-out, claim order, outcomes, leases, links, status and re-queueing. The
// delivery engine's policy on top of them is tested in tests/delivery/. Runs on SQLite, and on
// PostgreSQL when SCIMD_TEST_PG_URL names a server.

#include "scim/store/delivery_store.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "scim/store/delivery_status.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

const std::string kOwner = "owner-1";

class Tables : public testing::ScratchDatabase {
 public:
  explicit Tables(bool postgres)
      : testing::ScratchDatabase(postgres, "delivery_store"), store(*db) {}

  // An outbox row (as ResourceStore writes it); returns its seq.
  int64_t Event(const std::string& type, const std::string& id, const std::string& kind,
                const std::string& only_target = "") {
    Exec(
        "INSERT INTO outbox (tenant, resource_type, resource_id, event, version, payload, "
        "created, only_target) VALUES ('t1', '" +
        type + "', '" + id + "', '" + kind + "', 1, '{\"resource\":{\"id\":\"" + id +
        "\"}}', '2026-01-01T00:00:00.000Z', " +
        (only_target.empty() ? std::string("NULL") : "'" + only_target + "'") + ")");
    return Newest();
  }

  int64_t Newest() {
    long long seq = 0;
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           s << "SELECT MAX(seq) FROM outbox", soci::into(seq);
                           return OkStatus();
                         }).ok());
    return seq;
  }

  std::vector<ClaimedDelivery> Claim(int64_t lease_ms = 60000) {
    auto claimed = store.Claim("crm", kOwner, 10, lease_ms);
    BOOST_TEST_REQUIRE(claimed.ok());
    return *claimed;
  }

  // next_attempt_at ("NULL" when NULL) and last_error ("" when NULL) of the crm row of `seq`.
  std::pair<std::string, std::string> DueAndErrorOf(int64_t seq) {
    std::pair<std::string, std::string> out;
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           long long key = seq;
                           s << "SELECT COALESCE(CAST(next_attempt_at AS TEXT), 'NULL'), "
                                "COALESCE(last_error, '') FROM deliveries "
                                "WHERE target = 'crm' AND seq = :s",
                               soci::use(key), soci::into(out.first), soci::into(out.second);
                           return OkStatus();
                         }).ok());
    return out;
  }

  std::string StatusOf(int64_t seq) {
    std::string status = "<none>";
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           long long key = seq;
                           s << "SELECT status FROM deliveries WHERE target = 'crm' AND seq = :s",
                               soci::use(key), soci::into(status);
                           return OkStatus();
                         }).ok());
    return status;
  }

  DeliveryStore store;
};

bool All(const events::ChangeEvent&) { return true; }

AttemptRecord Delivered(const std::string& target_id) {
  AttemptRecord r;
  r.status = "delivered";
  r.attempts = 1;
  r.target_id = target_id;
  return r;
}

// Fan-out queues what `handles` accepts (and a manual sync only for its target); claims keep
// each resource's order; an outcome is written only by the lease's owner and records the link.
void QueueClaimRecord(bool postgres) {
  Tables t(postgres);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("zoho", "zoho_books").ok());
  int64_t a1 = t.Event("User", "a", "created");
  int64_t a2 = t.Event("User", "a", "patched");
  int64_t b1 = t.Event("User", "b", "created");
  int64_t g1 = t.Event("Group", "g", "created");
  int64_t z1 = t.Event("User", "c", "replaced", "zoho");  // a manual sync for another target
  auto needed = t.store.FanOutNeeded("crm");
  BOOST_TEST_REQUIRE(needed.ok());
  BOOST_TEST(*needed);
  auto fanned = t.store.FanOut(
      "crm", [](const events::ChangeEvent& e) { return e.resource_type == "User"; }, 100);
  BOOST_TEST_REQUIRE(fanned.ok());
  BOOST_TEST(fanned->scanned == 5);
  BOOST_TEST(fanned->queued == 3);
  BOOST_TEST(!fanned->more);
  BOOST_TEST(t.StatusOf(g1) == "<none>");
  BOOST_TEST(t.StatusOf(z1) == "<none>");
  // Fanning out again changes nothing. On PostgreSQL the cursor settles only once no older
  // transaction of the cluster is running (the settle rule in FanOut), and ctest runs other
  // suites against the same cluster: fan out until settled, queueing nothing each time.
  bool needed_again = true;
  for (int tries = 0; tries < 200 && needed_again; ++tries) {
    if (tries > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto again = t.store.FanOut("crm", All, 100);
    BOOST_TEST_REQUIRE(again.ok());
    BOOST_TEST(again->queued == 0);
    needed_again = *t.store.FanOutNeeded("crm");
  }
  BOOST_TEST(!needed_again);

  BOOST_TEST(*t.store.HasDue("crm"));
  std::vector<ClaimedDelivery> first = t.Claim();
  BOOST_TEST_REQUIRE(first.size() == 2u);  // a2 waits behind a1
  BOOST_TEST(first[0].event.seq == a1);
  BOOST_TEST(first[1].event.seq == b1);
  BOOST_TEST(first[0].event.resource_id == "a");
  BOOST_TEST((first[0].event.kind == events::ChangeKind::kCreated));
  BOOST_TEST(first[0].attempts == 0);
  BOOST_TEST(t.StatusOf(a1) == "in_flight");
  BOOST_TEST(t.Claim().empty());

  // Only the owner of the lease records an outcome; the link is recorded regardless.
  auto foreign = t.store.RecordAttempt("crm", "owner-2", first[0], Delivered("crm-a"));
  BOOST_TEST_REQUIRE(foreign.ok());
  BOOST_TEST(!*foreign);
  auto recorded = t.store.RecordAttempt("crm", kOwner, first[0], Delivered("crm-a"));
  BOOST_TEST_REQUIRE(recorded.ok());
  BOOST_TEST(*recorded);
  BOOST_TEST(t.StatusOf(a1) == "delivered");
  auto context = t.store.LoadContext("zoho", first[0].event);
  BOOST_TEST_REQUIRE(context.ok());
  BOOST_TEST(context->linked_ids.at("crm") == "crm-a");
  BOOST_TEST(!context->target_id.has_value());
  BOOST_TEST(!context->lookup_target_id("a").has_value());  // zoho's own links: none
  auto crm_context = t.store.LoadContext("crm", first[0].event);
  BOOST_TEST_REQUIRE(crm_context.ok());
  BOOST_TEST(crm_context->target_id.value_or("") == "crm-a");
  BOOST_TEST(crm_context->unlinked_targets.contains("zoho"));
  BOOST_TEST(crm_context->lookup_target_id("a").value_or("") == "crm-a");

  // A retry later holds a2; b goes back to pending when released.
  std::vector<ClaimedDelivery> second = t.Claim();
  BOOST_TEST_REQUIRE(second.size() == 1u);
  BOOST_TEST(second[0].event.seq == a2);
  AttemptRecord retry;
  retry.status = "pending";
  retry.attempts = 1;
  retry.next_attempt_at = NowMs() + 3'600'000;
  retry.error = std::string(3000, 'x');  // stored cut to 2,000 bytes
  BOOST_TEST_REQUIRE(*t.store.RecordAttempt("crm", kOwner, second[0], retry));
  BOOST_TEST(!*t.store.HasDue("crm"));
  BOOST_TEST_REQUIRE(t.store.Release(kOwner, {first[1].id}).ok());
  BOOST_TEST(t.StatusOf(b1) == "pending");
  BOOST_TEST(*t.store.HasDue("crm"));

  auto listed = ListDeliveries(*t.db, std::string("pending"), std::string("crm"), 10);
  BOOST_TEST_REQUIRE(listed.ok());
  BOOST_TEST_REQUIRE(listed->size() == 2u);
  BOOST_TEST((*listed)[0].seq == b1);  // newest first
  BOOST_TEST((*listed)[1].last_error.value_or("").size() == 2003u);
  auto links = LinksOf(*t.db, "t1", "a");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST_REQUIRE(links->size() == 1u);
  BOOST_TEST((*links)[0].external_id == "crm-a");
  auto status = SyncStatus(*t.db, {{"crm", "crm"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST_REQUIRE(status->size() == 2u);  // crm, then zoho (has a cursor)
  BOOST_TEST((*status)[0].pending == 2);
  BOOST_TEST((*status)[0].delivered == 1);
  BOOST_TEST((*status)[1].name == "zoho");
  BOOST_TEST((*status)[1].type == "zoho_books");
}

// An expired lease counts as an attempt: pending again, or failed (holding later changes back)
// when it was the last; re-queueing makes the row and its followers due again.
void LeasesAndRequeue(bool postgres) {
  Tables t(postgres);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  int64_t a1 = t.Event("User", "a", "created");
  int64_t a2 = t.Event("User", "a", "patched");
  BOOST_TEST_REQUIRE(t.store.FanOut("crm", All, 100).ok());
  std::vector<ClaimedDelivery> claimed = t.Claim(-1000);  // a lease already expired
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  auto reaped = t.store.ReapExpired("crm", 3);
  BOOST_TEST_REQUIRE(reaped.ok());
  BOOST_TEST(*reaped == 1);
  BOOST_TEST(t.StatusOf(a1) == "pending");
  claimed = t.Claim(-1000);
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST(claimed[0].attempts == 1);
  BOOST_TEST_REQUIRE(t.store.RenewLeases(kOwner, {claimed[0].id}, -1000).ok());
  BOOST_TEST(*t.store.ReapExpired("crm", 2) == 1);  // attempt 2 of 2: given up
  BOOST_TEST(t.StatusOf(a1) == "failed");
  BOOST_TEST(t.Claim().empty());  // a2 waits behind the failure
  auto status = SyncStatus(*t.db, {});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].blocked == 1);
  BOOST_TEST((*status)[0].failed == 1);

  DeliveryRow row;
  auto failed = ListDeliveries(*t.db, std::string("failed"), std::nullopt, 10);
  BOOST_TEST_REQUIRE(failed.ok());
  BOOST_TEST_REQUIRE(failed->size() == 1u);
  Status foreign = RetryDelivery(*t.db, (*failed)[0].id, std::string("t2"));
  BOOST_TEST((!foreign.ok() && foreign.error().code == ErrorCode::kNotFound));
  BOOST_TEST_REQUIRE(RetryDelivery(*t.db, (*failed)[0].id, std::string("t1"), &row).ok());
  BOOST_TEST(row.resource_id == "a");
  Status twice = RetryDelivery(*t.db, (*failed)[0].id);
  BOOST_TEST((!twice.ok() && twice.error().code == ErrorCode::kConflict));
  claimed = t.Claim();
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST(claimed[0].event.seq == a1);
  BOOST_TEST(claimed[0].requeues == 1);
  AttemptRecord refused;
  refused.status = "failed";
  refused.attempts = 1;
  refused.error = "refused";
  BOOST_TEST_REQUIRE(*t.store.RecordAttempt("crm", kOwner, claimed[0], refused));
  claimed = t.Claim();  // a refusal does not hold a2 back
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST(claimed[0].event.seq == a2);
  BOOST_TEST_REQUIRE(*t.store.RecordAttempt("crm", kOwner, claimed[0], Delivered("crm-a")));
  auto requeued = RetryFailed(*t.db, std::string("crm"));
  BOOST_TEST_REQUIRE(requeued.ok());
  BOOST_TEST(*requeued == 1);
  auto metrics = DeliveryMetricsOf(*t.db);
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(metrics->outbox_depth == 1);
  BOOST_TEST_REQUIRE(metrics->targets.size() == 1u);
  BOOST_TEST(metrics->targets[0].pending == 1);
  BOOST_TEST(metrics->targets[0].delivered == 1);
}

// The queries of `scimd sync reconcile`.
void ReconcileQueries(bool postgres) {
  Tables t(postgres);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  t.Exec(
      "INSERT INTO resources (tenant, id, resource_type, version, created, last_modified, data) "
      "VALUES ('t1', 'u1', 'User', 1, '2026-01-01T00:00:00.000Z', "
      "'2026-01-01T00:00:00.000Z', '{}')");
  t.Exec(
      "INSERT INTO audit_log (seq, tenant, time, actor, action, resource_type, resource_id, "
      "version) VALUES (1, 't1', '2026-01-01T00:00:00.000Z', 'a', 'delete', 'Group', 'g9', 1)");
  events::ChangeEvent event;
  event.tenant = "t1";
  event.resource_type = "User";
  event.resource_id = "u1";
  BOOST_TEST_REQUIRE(t.store.SaveLink("crm", event, "crm-1").ok());
  auto links = t.store.LinksOfTarget("crm");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST_REQUIRE(links->size() == 1u);
  BOOST_TEST((*links)[0].target_id == "crm-1");
  auto users = t.store.ResourcesOfType("User");
  BOOST_TEST_REQUIRE(users.ok());
  BOOST_TEST_REQUIRE(users->size() == 1u);
  BOOST_TEST((*users)[0].second == "u1");
  BOOST_TEST(*t.store.ResourceExists({"t1", "u1"}));
  BOOST_TEST(!*t.store.ResourceExists({"t2", "u1"}));
  auto deleted = t.store.DeletedResource("g9");
  BOOST_TEST_REQUIRE(deleted.ok());
  BOOST_TEST_REQUIRE(deleted->has_value());
  BOOST_TEST((**deleted == std::make_pair(std::string("t1"), std::string("Group"))));
  BOOST_TEST(!t.store.DeletedResource("u1")->has_value());
  // An event for another target only (a link refresh, a manual sync) is not the crm's.
  t.Event("User", "u1", "replaced", "dolibarr");
  auto elsewhere = t.store.OutstandingResources("crm");
  BOOST_TEST_REQUIRE(elsewhere.ok());
  BOOST_TEST(!elsewhere->contains({"t1", "u1"}));
  BOOST_TEST(t.store.OutstandingResources("dolibarr")->contains({"t1", "u1"}));
  t.Event("User", "u1", "patched");  // not fanned out yet: the dispatcher's
  auto outstanding = t.store.OutstandingResources("crm");
  BOOST_TEST_REQUIRE(outstanding.ok());
  BOOST_TEST(outstanding->contains({"t1", "u1"}));
  BOOST_TEST_REQUIRE(t.store.DropLink("crm", {"t1", "u1"}).ok());
  BOOST_TEST(t.store.LinksOfTarget("crm")->empty());
}

// PostgreSQL keeps the seqs missing at a scan in target_cursors.gaps. An unreadable list is not
// dropped silently: the fan-out says so and re-reads everything not settled, losing nothing.
void MalformedGapsAreReadAgain() {
  Tables t(true);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  int64_t a1 = t.Event("User", "a", "created");
  int64_t b1 = t.Event("User", "b", "created");
  BOOST_TEST_REQUIRE(t.store.FanOut("crm", All, 100).ok());
  // As if a1 had been missing at the scan (still unsettled), written in a form scimd never writes.
  t.Exec("DELETE FROM deliveries WHERE seq = " + std::to_string(a1));
  t.Exec("UPDATE target_cursors SET last_seq = 0, gaps = '" + std::to_string(a1) +
         "-x', horizon_seq = NULL, horizon_xid = NULL WHERE target = 'crm'");
  auto fanned = t.store.FanOut("crm", All, 100);
  BOOST_TEST_REQUIRE(fanned.ok());
  BOOST_TEST(fanned->malformed_gaps == std::to_string(a1) + "-x");
  BOOST_TEST(fanned->queued == 1);
  BOOST_TEST(t.StatusOf(a1) == "pending");
  BOOST_TEST(t.StatusOf(b1) == "pending");
  auto again = t.store.FanOut("crm", All, 100);
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(again->malformed_gaps.empty());
}

// A paused target (target_health) gives out nothing until next_probe_at, then exactly one probe
// (the oldest due row) to one claimer, which moves next_probe_at past its lease; an outcome the
// target answered closes the breaker and claims resume in seq order.
void PausedTargetGivesOneProbe(bool postgres) {
  Tables t(postgres);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  int64_t a1 = t.Event("User", "a", "created");
  int64_t b1 = t.Event("User", "b", "created");
  int64_t c1 = t.Event("User", "c", "created");
  BOOST_TEST_REQUIRE(t.store.FanOut("crm", All, 100).ok());

  auto none = t.store.ReadTargetHealth("crm");
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST(!none->paused);
  BOOST_TEST(none->consecutive_failures == 0);

  // Pause it, next probe in the future: nothing is due, nothing is claimed.
  const int64_t now = NowMs();
  auto paused = t.store.UpdateTargetHealth("crm", [&](TargetHealth& h) {
    BOOST_TEST(!h.paused);
    h.paused = true;
    h.paused_since_ms = now;
    h.reason = "HTTP 503";
    h.probe_backoff_ms = 1000;
    h.next_probe_at = now + 60000;
    h.consecutive_failures = 3;
  });
  BOOST_TEST_REQUIRE(paused.ok());
  BOOST_TEST(!paused->first.paused);
  BOOST_TEST(paused->second.paused);
  BOOST_TEST(!*t.store.HasDue("crm"));
  BOOST_TEST(t.Claim().empty());
  auto status = SyncStatus(*t.db, {{"crm", "crm"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST((*status)[0].paused);
  BOOST_TEST((*status)[0].pause_reason.value_or("") == "HTTP 503");
  BOOST_TEST((*status)[0].paused_since.has_value());
  BOOST_TEST((*status)[0].next_probe_at.has_value());
  auto metrics = DeliveryMetricsOf(*t.db, {{"crm", "crm"}});
  BOOST_TEST_REQUIRE(metrics.ok());
  BOOST_TEST(metrics->targets[0].paused);

  // Probe time: one row, the oldest, flagged as the probe; the next claim gets nothing.
  BOOST_TEST_REQUIRE(
      t.store.UpdateTargetHealth("crm", [&](TargetHealth& h) { h.next_probe_at = now - 1; }).ok());
  BOOST_TEST(*t.store.HasDue("crm"));
  std::vector<ClaimedDelivery> probe = t.Claim(30000);
  BOOST_TEST_REQUIRE(probe.size() == 1u);
  BOOST_TEST(probe[0].event.seq == a1);
  BOOST_TEST(probe[0].probe);
  BOOST_TEST(t.Claim().empty());
  BOOST_TEST(!*t.store.HasDue("crm"));
  auto during = t.store.ReadTargetHealth("crm");
  BOOST_TEST_REQUIRE(during.ok());
  BOOST_TEST(during->next_probe_at >= now + 30000);

  // The target answered the probe: closed, and the rest goes out in order.
  AttemptRecord answered = Delivered("crm-a");
  answered.target_answered = true;
  bool resumed = false;
  auto recorded = t.store.RecordAttempt("crm", kOwner, probe[0], answered, &resumed);
  BOOST_TEST_REQUIRE(recorded.ok());
  BOOST_TEST(*recorded);
  BOOST_TEST(resumed);
  auto closed = t.store.ReadTargetHealth("crm");
  BOOST_TEST_REQUIRE(closed.ok());
  BOOST_TEST(!closed->paused);
  BOOST_TEST(closed->consecutive_failures == 0);
  std::vector<ClaimedDelivery> rest = t.Claim();
  BOOST_TEST_REQUIRE(rest.size() == 2u);
  BOOST_TEST(rest[0].event.seq == b1);
  BOOST_TEST(rest[1].event.seq == c1);
  BOOST_TEST(!rest[0].probe);
  // A second answered outcome finds nothing to reset.
  resumed = true;
  BOOST_TEST_REQUIRE(t.store.RecordAttempt("crm", kOwner, rest[0], answered, &resumed).ok());
  BOOST_TEST(!resumed);
  status = SyncStatus(*t.db, {{"crm", "crm"}});
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST(!(*status)[0].paused);
  BOOST_TEST(!(*status)[0].pause_reason.has_value());
}

// The outcomes of a claimed batch in one transaction: each row as RecordAttempt would, in
// order, a row owned by someone else left alone, links recorded, followers held.
void BatchOfOutcomes(bool postgres) {
  Tables t(postgres);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  int64_t a1 = t.Event("User", "a", "created");
  int64_t a2 = t.Event("User", "a", "patched");
  int64_t b1 = t.Event("User", "b", "created");
  int64_t c1 = t.Event("User", "c", "created");
  BOOST_TEST_REQUIRE(t.store.FanOut("crm", All, 100).ok());
  std::vector<ClaimedDelivery> claimed = t.Claim();
  BOOST_TEST_REQUIRE(claimed.size() == 3u);  // a1, b1, c1
  AttemptRecord retry;
  retry.status = "pending";
  retry.attempts = 1;
  retry.next_attempt_at = NowMs() + 60000;
  // Quotes, a backslash, braces and a comma: the batched outcome on PostgreSQL passes the errors
  // as an array literal (delivery_sql::PgArray).
  retry.error = "HTTP 409 \"try\" later {a,b} \\ NULL";
  ClaimedDelivery foreign = claimed[2];
  foreign.id = claimed[2].id + 1000;  // not a row this owner holds
  bool resumed = true;
  auto owned = t.store.RecordAttempts("crm", kOwner,
                                      {{&claimed[0], Delivered("crm-a")},
                                       {&claimed[1], retry},
                                       {&claimed[2], Delivered("crm-c")},
                                       {&foreign, Delivered("crm-x")}},
                                      &resumed);
  BOOST_TEST_REQUIRE(owned.ok());
  BOOST_TEST((*owned == std::vector<bool>{true, true, true, false}));
  BOOST_TEST(!resumed);
  BOOST_TEST(t.StatusOf(a1) == "delivered");
  BOOST_TEST(t.StatusOf(b1) == "pending");
  BOOST_TEST(t.DueAndErrorOf(b1).first == std::to_string(*retry.next_attempt_at));
  BOOST_TEST(t.DueAndErrorOf(b1).second == *retry.error);
  BOOST_TEST(t.DueAndErrorOf(a1).first == "NULL");
  BOOST_TEST(t.StatusOf(c1) == "delivered");
  auto links = LinksOf(*t.db, "t1", "a");
  BOOST_TEST_REQUIRE(links.ok());
  BOOST_TEST_REQUIRE(links->size() == 1u);
  BOOST_TEST((*links)[0].external_id == "crm-a");
  // a2 is due now that a1 is delivered; b1 waits for its retry time.
  std::vector<ClaimedDelivery> next = t.Claim();
  BOOST_TEST_REQUIRE(next.size() == 1u);
  BOOST_TEST(next[0].event.seq == a2);
  auto empty = t.store.RecordAttempts("crm", kOwner, {});
  BOOST_TEST_REQUIRE(empty.ok());
  BOOST_TEST(empty->empty());
}

// The rows of one fan-out (one statement on PostgreSQL, kFanOutInsertPgSql): each due now
// unless an earlier open row of its resource holds it back (also one queued in the same
// fan-out), a row of an unknown event kind failed and never due, and a second fan-out of the same
// seqs inserts nothing.
void FanOutRows(bool postgres) {
  Tables t(postgres);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  int64_t a1 = t.Event("User", "a", "created");
  BOOST_TEST_REQUIRE(t.store.FanOut("crm", All, 100).ok());
  std::vector<ClaimedDelivery> claimed = t.Claim();
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  AttemptRecord gave_up;
  gave_up.status = "failed";
  gave_up.attempts = 3;
  gave_up.blocks_resource = true;
  gave_up.error = "gave up";
  BOOST_TEST_REQUIRE(t.store.RecordAttempt("crm", kOwner, claimed[0], gave_up).ok());
  const int64_t before = NowMs();
  int64_t a2 = t.Event("User", "a", "patched");  // behind a1, which blocks it
  int64_t b1 = t.Event("User", "b", "created");
  int64_t b2 = t.Event("User", "b", "patched");  // behind b1, queued in the same fan-out
  int64_t x = t.Event("User", "x", "frobbed");   // no such kind
  auto fanned = t.store.FanOut("crm", All, 100);
  BOOST_TEST_REQUIRE(fanned.ok());
  BOOST_TEST(fanned->queued == 4);
  BOOST_TEST(t.StatusOf(a1) == "failed");
  BOOST_TEST(t.DueAndErrorOf(a2).first == std::to_string(kParkedMs));
  const long long b1_due = std::stoll(t.DueAndErrorOf(b1).first);
  BOOST_TEST(b1_due >= before);
  BOOST_TEST(b1_due <= NowMs());
  BOOST_TEST(t.DueAndErrorOf(b2).first == std::to_string(b1_due));
  BOOST_TEST(t.StatusOf(x) == "failed");
  BOOST_TEST(t.DueAndErrorOf(x).first == "NULL");
  BOOST_TEST(t.DueAndErrorOf(x).second == "unknown outbox event kind 'frobbed'");
  // The cursor read them all: nothing more to queue; the rows are not queued twice.
  auto again = t.store.FanOut("crm", All, 100);
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(again->queued == 0);
  std::vector<ClaimedDelivery> next = t.Claim();
  BOOST_TEST_REQUIRE(next.size() == 1u);  // b1 (b2 waits for it; a2 is parked; x failed)
  BOOST_TEST(next[0].event.seq == b1);
}

BOOST_AUTO_TEST_SUITE(delivery_store)

BOOST_AUTO_TEST_CASE(fan_out_rows_on_sqlite) { FanOutRows(false); }
BOOST_AUTO_TEST_CASE(fan_out_rows_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  FanOutRows(true);
}

// A new, changed or dropped link of a User at one target queues a refresh (an outbox event for
// that target alone, with the User's current state) for each link follower (the CRM), unless a
// delivery of the User is already waiting there; nothing for an unchanged link, the follower's
// own link, a Group or a deleted User.
void LinkRefreshes(bool postgres) {
  Tables t(postgres);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("dolibarr", "dolibarr").ok());
  t.Exec(
      "INSERT INTO resources (tenant, id, resource_type, user_name, user_name_lc, created, "
      "last_modified, version, data) VALUES ('t1', 'u1', 'User', 'ada', 'ada', "
      "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 3, "
      "'{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada\"}')");
  auto fan_out = [&](const std::string& target) {
    BOOST_TEST_REQUIRE(t.store.FanOut(target, All, 100).ok());
  };
  auto claim = [&](const std::string& target) {
    auto claimed = t.store.Claim(target, kOwner, 10, 60000);
    BOOST_TEST_REQUIRE(claimed.ok());
    BOOST_TEST_REQUIRE(claimed->size() == 1u);
    return claimed->front();
  };
  auto record = [&](const std::string& target, const ClaimedDelivery& c, AttemptRecord r) {
    r.link_followers = {"crm"};
    auto recorded = t.store.RecordAttempt(target, kOwner, c, r);
    BOOST_TEST_REQUIRE(recorded.ok());
    BOOST_TEST(*recorded);
  };

  t.Event("User", "u1", "created");
  fan_out("dolibarr");
  fan_out("crm");
  // The CRM's delivery is still waiting: it reads the links when claimed, no refresh.
  int64_t before = t.Newest();
  record("dolibarr", claim("dolibarr"), Delivered("d1"));
  BOOST_TEST(t.Newest() == before);
  // The CRM's own link is no link change for it.
  record("crm", claim("crm"), Delivered("c1"));
  BOOST_TEST(t.Newest() == before);

  // The same link again: nothing. A new one while the CRM has nothing waiting: a refresh.
  t.Event("User", "u1", "patched");
  fan_out("dolibarr");
  record("dolibarr", claim("dolibarr"), Delivered("d1"));
  BOOST_TEST(t.Newest() == before + 1);
  t.Event("User", "u1", "patched");
  fan_out("dolibarr");
  record("dolibarr", claim("dolibarr"), Delivered("d2"));
  int64_t refresh = t.Newest();
  BOOST_TEST_REQUIRE(refresh == before + 3);
  BOOST_TEST_REQUIRE(t.db->WithSession([&](soci::session& s) -> Status {
                           std::string type, id, kind, payload, only;
                           long long version = 0, seq = refresh;
                           s << "SELECT resource_type, resource_id, event, version, payload, "
                                "only_target FROM outbox WHERE seq = :s",
                               soci::use(seq), soci::into(type), soci::into(id), soci::into(kind),
                               soci::into(version), soci::into(payload), soci::into(only);
                           BOOST_TEST(type == "User");
                           BOOST_TEST(id == "u1");
                           BOOST_TEST(kind == "replaced");
                           BOOST_TEST(version == 3);
                           BOOST_TEST(only == "crm");
                           BOOST_TEST(payload.find("\"userName\":\"ada\"") != std::string::npos);
                           return OkStatus();
                         })
                         .ok());
  // Only the CRM takes it (the CRM's fan-out here takes nothing else).
  BOOST_TEST_REQUIRE(
      t.store
          .FanOut(
              "crm", [&](const events::ChangeEvent& e) { return e.seq == refresh; }, 100)
          .ok());
  fan_out("dolibarr");
  BOOST_TEST(t.StatusOf(refresh) == "pending");
  BOOST_TEST(!*t.store.HasDue("dolibarr"));

  // Dropping the link while the refresh waits: coalesced into it.
  t.Event("User", "u1", "patched");
  fan_out("dolibarr");
  AttemptRecord gone = Delivered("");
  gone.target_id.reset();
  gone.unlink = true;
  record("dolibarr", claim("dolibarr"), gone);
  BOOST_TEST(t.Newest() == refresh + 1);
  // In flight, it may have read the links already: a new link queues another refresh.
  ClaimedDelivery in_flight = claim("crm");
  BOOST_TEST(in_flight.event.seq == refresh);
  t.Event("User", "u1", "patched");
  fan_out("dolibarr");
  record("dolibarr", claim("dolibarr"), Delivered("d3"));
  BOOST_TEST(t.Newest() == refresh + 3);

  // A Group's links are nobody's externalIds; a deleted User needs no refresh.
  t.Exec("DELETE FROM resources WHERE id = 'u1'");
  t.Event("User", "u1", "deleted");
  fan_out("dolibarr");
  record("dolibarr", claim("dolibarr"), gone);
  t.Event("Group", "g1", "created");
  fan_out("dolibarr");
  record("dolibarr", claim("dolibarr"), Delivered("dg"));
  BOOST_TEST(t.Newest() == refresh + 5);
}

// An organization event's context reads the links and member roles of the members it adds up
// front (one query each); other ids are still looked up when asked.
void ContextPrefetchesMembers(bool postgres) {
  Tables t(postgres);
  BOOST_TEST_REQUIRE(t.store.EnsureCursor("crm", "crm").ok());
  for (const auto& [id, role] : std::vector<std::pair<std::string, std::string>>{
           {"u1", "admin"}, {"u2", "sales"}, {"u3", "manager"}}) {
    t.Exec(
        "INSERT INTO resources (tenant, id, resource_type, version, created, last_modified, "
        "data) VALUES ('t1', '" +
        id +
        "', 'User', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', "
        "'{\"roles\":[{\"value\":\"" +
        role + "\",\"primary\":true}]}')");
  }
  t.Exec(
      "INSERT INTO target_links (target, tenant, resource_type, resource_id, external_id, "
      "updated) VALUES ('crm', 't1', 'User', 'u1', 'crm_u_1', '2026-01-01T00:00:00.000Z'), "
      "('crm', 't1', 'User', 'u3', 'crm_u_3', '2026-01-01T00:00:00.000Z')");
  events::ChangeEvent group;
  group.tenant = "t1";
  group.resource_type = "Group";
  group.resource_id = "org";
  group.kind = events::ChangeKind::kCreated;
  group.payload = R"({"resource":{"id":"org"},"members":{"added":[{"value":"u1"},{"value":"u2"},)"
                  R"({"value":"gone"}],"removed":[]}})";
  auto context = t.store.LoadContext("crm", group);
  BOOST_TEST_REQUIRE(context.ok());
  BOOST_TEST(context->lookup_target_id("u1").value_or("") == "crm_u_1");
  BOOST_TEST(!context->lookup_target_id("u2").has_value());               // not linked
  BOOST_TEST(!context->lookup_target_id("gone").has_value());             // no such user
  BOOST_TEST(context->lookup_target_id("u3").value_or("") == "crm_u_3");  // not prefetched
  BOOST_TEST(context->current_member_role("u1").value_or("") == "admin");
  BOOST_TEST(context->current_member_role("u2").value_or("") == "sales");
  BOOST_TEST(!context->current_member_role("gone").has_value());
  BOOST_TEST(context->current_member_role("u3").value_or("") == "manager");
  // Prefetched: later changes are not seen by this context (it is built right before the call).
  t.Exec("DELETE FROM target_links WHERE resource_id = 'u1'");
  BOOST_TEST(context->lookup_target_id("u1").value_or("") == "crm_u_1");
}

BOOST_AUTO_TEST_CASE(context_prefetches_members_on_sqlite) { ContextPrefetchesMembers(false); }
BOOST_AUTO_TEST_CASE(context_prefetches_members_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  ContextPrefetchesMembers(true);
}
BOOST_AUTO_TEST_CASE(batch_of_outcomes_on_sqlite) { BatchOfOutcomes(false); }
BOOST_AUTO_TEST_CASE(batch_of_outcomes_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  BatchOfOutcomes(true);
}

BOOST_AUTO_TEST_CASE(paused_target_gives_one_probe_on_sqlite) { PausedTargetGivesOneProbe(false); }
BOOST_AUTO_TEST_CASE(paused_target_gives_one_probe_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  PausedTargetGivesOneProbe(true);
}

BOOST_AUTO_TEST_CASE(queue_claim_record_on_sqlite) { QueueClaimRecord(false); }
BOOST_AUTO_TEST_CASE(link_refreshes_on_sqlite) { LinkRefreshes(false); }
BOOST_AUTO_TEST_CASE(leases_and_requeue_on_sqlite) { LeasesAndRequeue(false); }
BOOST_AUTO_TEST_CASE(reconcile_queries_on_sqlite) { ReconcileQueries(false); }

BOOST_AUTO_TEST_CASE(link_refreshes_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  LinkRefreshes(true);
}

BOOST_AUTO_TEST_CASE(queue_claim_record_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  QueueClaimRecord(true);
}
BOOST_AUTO_TEST_CASE(leases_and_requeue_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  LeasesAndRequeue(true);
}
BOOST_AUTO_TEST_CASE(reconcile_queries_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  ReconcileQueries(true);
}
BOOST_AUTO_TEST_CASE(malformed_gaps_are_read_again_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  MalformedGapsAreReadAgain();
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
