// Coalescing (TargetAdapter::Coalesces(), src/delivery/coalesce.h, delivery_queue.h): the
// pending changes of one resource at a target go in one call with the last state, every row
// keeps its own outcome row with a note, a failed call retries or fails all of them in order,
// and two dispatchers sharing the database never deliver a row twice. SQLite, and PostgreSQL
// when SCIMD_TEST_PG_URL is set. The event merge itself is tested without a database.
#include "delivery/coalesce.h"

#include <boost/test/unit_test.hpp>

#include "delivery/delivery_queue.h"
#include "delivery/delivery_test_support.h"
#include "scim/common/json.h"
#include "scim/delivery/dispatcher.h"

namespace scim::delivery {
namespace {

using testing::AddEvent;
using testing::Backend;
using testing::Call;
using testing::DeliveryIdOf;
using testing::DeliveryStatusOf;
using testing::FakeAdapter;
using testing::PgAvailable;
using testing::QueryInt;
using testing::QueryText;
using testing::Recorder;
using testing::TestDatabase;
using testing::WaitFor;

struct Setup {
  explicit Setup(Backend backend)
      : db(backend),
        recorder(std::make_shared<Recorder>()),
        adapter(std::make_shared<FakeAdapter>("crm", recorder)) {
    adapter->SetCoalesces(true);
  }

  std::unique_ptr<Dispatcher> MakeDispatcher(DispatcherOptions options = {}) {
    if (options.owner_id.empty()) options.owner_id = "coalesce-test";
    return std::make_unique<Dispatcher>(db.db(), std::vector<DispatchTarget>{{adapter, retry}},
                                        options);
  }

  // A User event whose resource has `title` (so the state sent can be told apart).
  int64_t Event(const std::string& id, const std::string& kind, const std::string& title = "",
                const std::string& extra = "") {
    int64_t seq = AddEvent(*db, id, kind);
    if (kind != "deleted") {
      Exec("UPDATE outbox SET payload = '{\"resource\":{\"id\":\"" + id + "\",\"title\":\"" +
           title + "\"}" + extra + "}' WHERE seq = " + std::to_string(seq));
    }
    return seq;
  }

  void Exec(const std::string& sql) { testing::Exec(*db, sql); }
  // Retries wait a minute (no retry inside one RunOnce()); this makes every pending row due.
  void MakeDue() {
    Exec(
        "UPDATE deliveries SET next_attempt_at = 0 WHERE status = 'pending' AND "
        "next_attempt_at < " +
        std::to_string(kParkedMs));
  }
  // Fans out without delivering.
  void FanOut() {
    DeliveryQueue queue(*db, "fan-out");
    BOOST_TEST_REQUIRE(queue.EnsureCursor("crm", "fake").ok());
    BOOST_TEST_REQUIRE(queue.FanOut(*adapter, 1000).ok());
  }

  std::string Status(int64_t seq) { return DeliveryStatusOf(*db, "crm", seq); }
  std::string Note(int64_t seq) {
    return QueryText(*db, "SELECT last_error FROM deliveries WHERE id = :id",
                     DeliveryIdOf(*db, "crm", seq));
  }
  long long Attempts(int64_t seq) {
    return QueryInt(*db, "SELECT attempts FROM deliveries WHERE id = :id",
                    DeliveryIdOf(*db, "crm", seq));
  }
  long long NextAt(int64_t seq) {
    return QueryInt(*db, "SELECT next_attempt_at FROM deliveries WHERE id = :id",
                    DeliveryIdOf(*db, "crm", seq));
  }

  TestDatabase db;
  std::shared_ptr<Recorder> recorder;
  std::shared_ptr<FakeAdapter> adapter;
  RetryPolicy retry{3, 60000, 60000};
};

std::string TitleOf(const Call& call) {
  json::Document doc;
  if (!json::Parse(call.payload, doc).ok() || !doc.IsObject() || !doc.HasMember("resource")) {
    return "<none>";
  }
  const json::Value& r = doc["resource"];
  return r.HasMember("title") && r["title"].IsString() ? r["title"].GetString() : "<none>";
}

// create + 4 updates before the first claim: one create call with the last state; every row
// delivered, each with the note naming the run and the row that carried the call.
void BurstIsOneCall(Backend backend) {
  Setup t(backend);
  std::vector<int64_t> seqs = {t.Event("u1", "created", "v0")};
  for (int i = 1; i < 5; ++i) seqs.push_back(t.Event("u1", "patched", "v" + std::to_string(i)));
  auto d = t.MakeDispatcher();
  auto n = d->RunOnce();
  BOOST_TEST_REQUIRE(n.ok());
  std::vector<Call> calls = t.recorder->calls();
  BOOST_TEST_REQUIRE(calls.size() == 1u);
  BOOST_TEST((calls[0].kind == events::ChangeKind::kCreated));
  BOOST_TEST(calls[0].seq == seqs.back());
  BOOST_TEST(TitleOf(calls[0]) == "v4");
  BOOST_TEST(calls[0].idempotency_key == "crm:" + std::to_string(seqs.back()));
  BOOST_TEST(calls[0].attempt_of_context == 1);
  const std::string note = "coalesced: seq " + std::to_string(seqs.front()) + ".." +
                           std::to_string(seqs.back()) + " (5 changes) in one call as delivery " +
                           std::to_string(DeliveryIdOf(*t.db, "crm", seqs.front()));
  for (int64_t seq : seqs) {
    BOOST_TEST(t.Status(seq) == "delivered");
    BOOST_TEST(t.Note(seq) == note);
    BOOST_TEST(t.Attempts(seq) == 1);
  }
  BOOST_TEST(QueryText(*t.db, "SELECT external_id FROM target_links WHERE resource_id = :r",
                       std::string("u1")) == "crm-u1");

  // Updates of a delivered resource: one call of the last one's kind and state.
  std::vector<int64_t> more = {t.Event("u1", "patched", "w1"), t.Event("u1", "replaced", "w2"),
                               t.Event("u1", "patched", "w3")};
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  calls = t.recorder->calls();
  BOOST_TEST_REQUIRE(calls.size() == 2u);
  BOOST_TEST((calls[1].kind == events::ChangeKind::kPatched));
  BOOST_TEST(calls[1].seq == more.back());
  BOOST_TEST(TitleOf(calls[1]) == "w3");
  BOOST_TEST(calls[1].target_id.value_or("") == "crm-u1");
  for (int64_t seq : more) BOOST_TEST(t.Status(seq) == "delivered");

  // Updates then a delete: the delete alone; the link is dropped.
  std::vector<int64_t> last = {t.Event("u1", "patched", "x1"), t.Event("u1", "deleted")};
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  calls = t.recorder->calls();
  BOOST_TEST_REQUIRE(calls.size() == 3u);
  BOOST_TEST((calls[2].kind == events::ChangeKind::kDeleted));
  BOOST_TEST(calls[2].seq == last.back());
  for (int64_t seq : last) BOOST_TEST(t.Status(seq) == "delivered");
  BOOST_TEST(QueryInt(*t.db, "SELECT COUNT(*) FROM target_links WHERE resource_id = :r",
                      std::string("u1")) == 0);
}

// A resource created, changed and deleted before its create was ever attempted: nothing is
// sent; every row is delivered with a note saying so. With an attempted create, the delete is
// sent.
void CreatedAndDeletedSendsNothing(Backend backend) {
  Setup t(backend);
  std::vector<int64_t> seqs = {t.Event("u1", "created", "a"), t.Event("u1", "patched", "b"),
                               t.Event("u1", "deleted")};
  auto d = t.MakeDispatcher();
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(t.recorder->calls().empty());
  for (int64_t seq : seqs) {
    BOOST_TEST(t.Status(seq) == "delivered");
    BOOST_TEST(t.Note(seq).find("created and deleted before delivery; nothing sent") !=
               std::string::npos);
    BOOST_TEST(t.Attempts(seq) == 0);
  }

  // u2's create was attempted (a retry): it may be at the target, so the delete goes out.
  int64_t c = t.Event("u2", "created", "a");
  t.adapter->SetScript([](const events::ChangeEvent& e, int) {
    if (e.kind == events::ChangeKind::kDeleted) return events::DeliveryOutcome::Unlinked();
    return events::DeliveryOutcome::Retry("busy");
  });
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(t.Status(c) == "pending");
  int64_t del = t.Event("u2", "deleted");
  BOOST_TEST_REQUIRE(d->RunOnce().ok());  // fans the delete out; the create is in backoff
  t.MakeDue();
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(t.Status(del) == "delivered");
  std::vector<Call> calls = t.recorder->calls();
  BOOST_TEST_REQUIRE(calls.size() == 2u);
  BOOST_TEST((calls[1].kind == events::ChangeKind::kDeleted));
  BOOST_TEST(t.Status(c) == "delivered");
}

// A retry of the coalesced call puts every row back, due together behind the first, and the next
// call carries them all again (in order, nothing lost); a refusal fails them all.
void FailureCoversAllRows(Backend backend) {
  Setup t(backend);
  std::vector<int64_t> seqs = {t.Event("u1", "created", "a"), t.Event("u1", "patched", "b"),
                               t.Event("u1", "patched", "c")};
  std::atomic<int> calls_made{0};
  t.adapter->SetScript([&](const events::ChangeEvent& e, int) {
    if (calls_made++ == 0) return events::DeliveryOutcome::Retry("HTTP 500 busy");
    return events::DeliveryOutcome::Delivered("crm-" + e.resource_id);
  });
  auto d = t.MakeDispatcher();
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST_REQUIRE(t.recorder->calls().size() == 1u);
  for (int64_t seq : seqs) {
    BOOST_TEST(t.Status(seq) == "pending");
    BOOST_TEST(t.Attempts(seq) == 1);
    BOOST_TEST(t.NextAt(seq) == t.NextAt(seqs.front()));
    BOOST_TEST(t.Note(seq).find("HTTP 500 busy") != std::string::npos);
  }
  BOOST_TEST(t.Note(seqs.front()).find("coalesced: seq") != std::string::npos);
  int64_t later = t.Event("u1", "patched", "d");
  BOOST_TEST_REQUIRE(d->RunOnce().ok());  // fans it out; it waits behind the others
  BOOST_TEST(t.recorder->calls().size() == 1u);
  t.MakeDue();
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(t.Status(later) == "delivered");
  std::vector<Call> calls = t.recorder->calls();
  BOOST_TEST_REQUIRE(calls.size() == 2u);
  BOOST_TEST(calls[1].seq == later);
  BOOST_TEST(TitleOf(calls[1]) == "d");
  BOOST_TEST((calls[1].kind == events::ChangeKind::kCreated));
  BOOST_TEST(calls[1].attempt_of_context == 2);
  for (int64_t seq : seqs) BOOST_TEST(t.Status(seq) == "delivered");
  BOOST_TEST(t.Attempts(later) == 1);

  // A refusal fails every row of the call, each with the error.
  std::vector<int64_t> refused = {t.Event("u1", "patched", "bad"),
                                  t.Event("u1", "patched", "bad2")};
  t.adapter->SetScript(
      [](const events::ChangeEvent&, int) { return events::DeliveryOutcome::Failed("HTTP 422"); });
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  for (int64_t seq : refused) {
    BOOST_TEST(t.Status(seq) == "failed");
    BOOST_TEST(t.Note(seq).find("HTTP 422") != std::string::npos);
  }
}

// Giving up after max_attempts fails the first row (blocking) and parks the others behind it; a
// target-wide failure spends the first row's attempt only and hands the others back.
void GiveUpAndTargetWide(Backend backend) {
  Setup t(backend);
  t.retry = RetryPolicy{1, 1, 2};
  std::vector<int64_t> seqs = {t.Event("u1", "created", "a"), t.Event("u1", "patched", "b")};
  t.adapter->SetScript(
      [](const events::ChangeEvent&, int) { return events::DeliveryOutcome::Retry("busy"); });
  auto d = t.MakeDispatcher();
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(t.Status(seqs[0]) == "failed");
  BOOST_TEST(QueryInt(*t.db, "SELECT blocks_resource FROM deliveries WHERE id = :id",
                      DeliveryIdOf(*t.db, "crm", seqs[0])) == 1);
  BOOST_TEST(t.Status(seqs[1]) == "pending");
  BOOST_TEST(t.NextAt(seqs[1]) == static_cast<long long>(kParkedMs));
  BOOST_TEST(t.Note(seqs[1]).find("which gave up") != std::string::npos);

  Setup w(backend);
  std::vector<int64_t> rows = {w.Event("u1", "created", "a"), w.Event("u1", "patched", "b"),
                               w.Event("u1", "patched", "c")};
  w.adapter->SetScript([](const events::ChangeEvent&, int) {
    auto outcome = events::DeliveryOutcome::Retry("HTTP 503");
    outcome.target_unavailable = true;
    return outcome;
  });
  auto dw = w.MakeDispatcher();
  BOOST_TEST_REQUIRE(dw->RunOnce().ok());
  BOOST_TEST_REQUIRE(!w.recorder->calls().empty());
  for (const Call& c : w.recorder->calls()) BOOST_TEST(c.seq == rows.back());
  BOOST_TEST(w.Attempts(rows[0]) == 1);  // the first of a streak spends one attempt
  for (int64_t seq : rows) BOOST_TEST(w.Status(seq) == "pending");
  BOOST_TEST(w.Attempts(rows[1]) == 0);
  BOOST_TEST(w.Attempts(rows[2]) == 0);
}

// Rows behind a row in backoff stay behind it; an adapter that opts out gets one call per row;
// DispatcherOptions::coalesce bounds a run.
void BoundsAndOptOut(Backend backend) {
  Setup t(backend);
  std::vector<int64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    seqs.push_back(t.Event("u1", i == 0 ? "created" : "patched", "v" + std::to_string(i)));
  }
  DispatcherOptions options;
  options.coalesce = 3;
  auto d = t.MakeDispatcher(options);
  t.FanOut();
  t.Exec("UPDATE deliveries SET next_attempt_at = next_attempt_at + 600000 WHERE seq = " +
         std::to_string(seqs[0]));
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  BOOST_TEST(t.recorder->calls().empty());
  for (int64_t seq : seqs) BOOST_TEST(t.Status(seq) == "pending");
  t.Exec("UPDATE deliveries SET next_attempt_at = 0 WHERE seq = " + std::to_string(seqs[0]));
  BOOST_TEST_REQUIRE(d->RunOnce().ok());
  std::vector<Call> calls = t.recorder->calls();
  BOOST_TEST_REQUIRE(calls.size() == 2u);  // 3 + 2
  BOOST_TEST(calls[0].seq == seqs[2]);
  BOOST_TEST((calls[0].kind == events::ChangeKind::kCreated));
  BOOST_TEST(calls[1].seq == seqs[4]);
  BOOST_TEST((calls[1].kind == events::ChangeKind::kPatched));

  Setup o(backend);
  o.adapter->SetCoalesces(false);
  for (int i = 0; i < 4; ++i) o.Event("u1", i == 0 ? "created" : "patched");
  auto od = o.MakeDispatcher();
  BOOST_TEST_REQUIRE(WaitFor([&] {
    BOOST_TEST_REQUIRE(od->RunOnce().ok());
    return o.recorder->calls().size() >= 4u;
  }));
  BOOST_TEST(o.recorder->calls().size() == 4u);
}

// Two dispatchers (two "processes") with two workers each on one database, bursts of changes to
// 20 users arriving while they run: every row delivered once (each resource's calls in seq
// order, never two at once, the last one with its last state), in fewer calls than rows.
void TwoProcesses(Backend backend) {
  Setup t(backend);
  t.adapter->SetDelay(std::chrono::milliseconds(30));
  auto other = std::make_shared<FakeAdapter>("crm", t.recorder);
  other->SetCoalesces(true);
  other->SetInstance("second");
  other->SetDelay(std::chrono::milliseconds(30));
  DispatcherOptions options;
  options.poll_interval = std::chrono::milliseconds(5);
  options.owner_id = "first";
  auto first = t.MakeDispatcher(options);
  options.owner_id = "second";
  auto second = std::make_unique<Dispatcher>(
      t.db.Open(), std::vector<DispatchTarget>{{other, t.retry}}, options);
  BOOST_TEST_REQUIRE(first->Start().ok());
  BOOST_TEST_REQUIRE(second->Start().ok());
  std::map<std::string, int64_t> last;
  std::vector<int64_t> all;
  for (int round = 0; round < 6; ++round) {
    for (int u = 0; u < 20; ++u) {
      const std::string id = "u" + std::to_string(u);
      all.push_back(t.Event(id, round == 0 ? "created" : "patched", std::to_string(round)));
      last[id] = all.back();
    }
    first->Notify();
    second->Notify();
  }
  bool done = WaitFor([&] {
    for (int64_t seq : all) {
      if (t.Status(seq) != "delivered") return false;
    }
    return true;
  });
  first->Stop();
  second->Stop();
  BOOST_TEST_REQUIRE(done);
  std::vector<Call> calls = t.recorder->calls();
  BOOST_TEST(t.recorder->overlaps() == 0);
  BOOST_TEST(calls.size() < all.size());
  std::map<std::string, int64_t> seen;
  std::map<int64_t, int> per_seq;
  for (const Call& c : calls) {
    BOOST_TEST((c.result == events::DeliveryStatus::kDelivered));
    ++per_seq[c.seq];
    if (seen.count(c.resource_id) > 0) {
      BOOST_TEST(c.seq > seen[c.resource_id], c.resource_id << ": " << c.seq);
    }
    seen[c.resource_id] = c.seq;
  }
  for (const auto& [seq, count] : per_seq) BOOST_TEST(count == 1, "seq " << seq);
  for (const auto& [id, seq] : last) BOOST_TEST(seen[id] == seq, id);
  // Each row's run note names the call's first row; a row is in one run only.
  BOOST_TEST(QueryInt(*t.db, "SELECT COUNT(*) FROM deliveries WHERE status <> :s",
                      std::string("delivered")) == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(coalesce)

BOOST_AUTO_TEST_CASE(burst_is_one_call_sqlite) { BurstIsOneCall(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(burst_is_one_call_pg, *boost::unit_test::precondition(PgAvailable())) {
  BurstIsOneCall(Backend::kPostgres);
}
BOOST_AUTO_TEST_CASE(created_and_deleted_sends_nothing_sqlite) {
  CreatedAndDeletedSendsNothing(Backend::kSqlite);
}
BOOST_AUTO_TEST_CASE(created_and_deleted_sends_nothing_pg,
                     *boost::unit_test::precondition(PgAvailable())) {
  CreatedAndDeletedSendsNothing(Backend::kPostgres);
}
BOOST_AUTO_TEST_CASE(failure_covers_all_rows_sqlite) { FailureCoversAllRows(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(failure_covers_all_rows_pg, *boost::unit_test::precondition(PgAvailable())) {
  FailureCoversAllRows(Backend::kPostgres);
}
BOOST_AUTO_TEST_CASE(give_up_and_target_wide_sqlite) { GiveUpAndTargetWide(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(give_up_and_target_wide_pg, *boost::unit_test::precondition(PgAvailable())) {
  GiveUpAndTargetWide(Backend::kPostgres);
}
BOOST_AUTO_TEST_CASE(bounds_and_opt_out_sqlite) { BoundsAndOptOut(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(bounds_and_opt_out_pg, *boost::unit_test::precondition(PgAvailable())) {
  BoundsAndOptOut(Backend::kPostgres);
}
BOOST_AUTO_TEST_CASE(two_processes_sqlite) { TwoProcesses(Backend::kSqlite); }
BOOST_AUTO_TEST_CASE(two_processes_pg, *boost::unit_test::precondition(PgAvailable())) {
  TwoProcesses(Backend::kPostgres);
}

// ---- the merge, without a database ----

events::ChangeEvent Ev(int64_t seq, events::ChangeKind kind, const std::string& payload,
                       const std::string& type = "User") {
  events::ChangeEvent e;
  e.seq = seq;
  e.tenant = "t1";
  e.resource_type = type;
  e.resource_id = "r";
  e.kind = kind;
  e.version = seq;
  e.payload = payload;
  return e;
}

json::Document Parsed(const std::string& text) {
  json::Document doc;
  BOOST_TEST_REQUIRE(json::Parse(text, doc).ok());
  return doc;
}

BOOST_AUTO_TEST_CASE(merge_user_fields) {
  using K = events::ChangeKind;
  // Deactivated, a role change, reactivated... ends inactive: active_before is the state before
  // the run; external ids removed are the union; role_change the last with the first "before".
  auto a = Ev(1, K::kPatched,
              R"({"resource":{"active":false},"active_before":true,"external_ids_removed":["x"],)"
              R"("role_change":{"role":"admin","before":"member","groups":["g1"]}})");
  auto b = Ev(2, K::kReplaced,
              R"({"resource":{"active":false,"title":"t"},"external_ids_removed":["y"],)"
              R"("role_change":{"role":"sales","before":"admin","groups":["g2"]},)"
              R"("request_id":"req-b"})");
  auto merged = CoalesceEvents({&a, &b});
  BOOST_TEST(merged.seq == 2);
  BOOST_TEST(merged.version == 2);
  BOOST_TEST((merged.kind == K::kReplaced));
  json::Document doc = Parsed(merged.payload);
  BOOST_TEST(doc["active_before"].GetBool() == true);
  BOOST_TEST(doc["resource"]["title"].GetString() == std::string("t"));
  BOOST_TEST(doc["request_id"].GetString() == std::string("req-b"));
  BOOST_TEST(doc["external_ids_removed"].Size() == 2u);
  BOOST_TEST(doc["role_change"]["role"].GetString() == std::string("sales"));
  BOOST_TEST(doc["role_change"]["before"].GetString() == std::string("member"));
  BOOST_TEST(doc["role_change"]["groups"][0].GetString() == std::string("g2"));

  // Deactivated and reactivated: no flip over the run, so no active_before.
  auto c = Ev(3, K::kPatched, R"({"resource":{"active":true},"active_before":false})");
  doc = Parsed(CoalesceEvents({&a, &b, &c}).payload);
  BOOST_TEST(!doc.HasMember("active_before"));
  // A run starting with a create is a create, without active_before.
  auto created = Ev(1, K::kCreated, R"({"resource":{"active":true}})");
  auto off = Ev(2, K::kPatched, R"({"resource":{"active":false},"active_before":true})");
  auto merged_create = CoalesceEvents({&created, &off});
  BOOST_TEST((merged_create.kind == K::kCreated));
  BOOST_TEST(!Parsed(merged_create.payload).HasMember("active_before"));
  // A run not flipping `active` in its first event takes that event's own state as before.
  auto rename = Ev(1, K::kPatched, R"({"resource":{"title":"x"}})");
  doc = Parsed(CoalesceEvents({&rename, &off}).payload);
  BOOST_TEST(doc["active_before"].GetBool() == true);
  // A delete ends the run and is what is sent.
  auto del = Ev(4, K::kDeleted, "{}");
  auto merged_delete = CoalesceEvents({&created, &off, &del});
  BOOST_TEST((merged_delete.kind == K::kDeleted));
  BOOST_TEST(merged_delete.seq == 4);
  BOOST_TEST(!CanCoalesce({&created, &del}, off));
  BOOST_TEST(CanCoalesce({&created, &off}, del));
}

BOOST_AUTO_TEST_CASE(merge_group_members) {
  using K = events::ChangeKind;
  auto renamed = Ev(1, K::kPatched, R"({"resource":{"displayName":"a"}})", "Group");
  auto added = Ev(2, K::kPatched,
                  R"({"resource":{"displayName":"a"},"members":{"added":[{"value":"u1"}],)"
                  R"("removed":[],"replaced":false}})",
                  "Group");
  auto renamed_again = Ev(3, K::kPatched, R"({"resource":{"displayName":"b"}})", "Group");
  auto removed = Ev(4, K::kPatched,
                    R"({"resource":{"displayName":"b"},"members":{"added":[],)"
                    R"("removed":[{"value":"u1"}],"replaced":false}})",
                    "Group");
  BOOST_TEST(CanCoalesce({&renamed}, added));
  BOOST_TEST(CanCoalesce({&renamed, &added}, renamed_again));
  // At most one membership change per run: deltas are not composed.
  BOOST_TEST(!CanCoalesce({&renamed, &added, &renamed_again}, removed));
  json::Document doc = Parsed(CoalesceEvents({&renamed, &added, &renamed_again}).payload);
  BOOST_TEST(doc["resource"]["displayName"].GetString() == std::string("b"));
  BOOST_TEST(doc["members"]["added"][0]["value"].GetString() == std::string("u1"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::delivery
