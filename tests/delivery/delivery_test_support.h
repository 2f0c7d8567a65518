#pragma once
// Shared pieces of the delivery tests: a fresh database per test (a temporary SQLite file, or a
// throwaway PostgreSQL database on the server named by SCIMD_TEST_PG_URL), outbox rows written
// the way the store writes them, and a scriptable in-process TargetAdapter that records calls.
// SQL goes through store's test support (tests/store/testing/sql.h), failing the test on error.

#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "scim/events/target_adapter.h"
#include "scim/store/database.h"
#include "store/testing/sql.h"

namespace scim::delivery::testing {

enum class Backend { kSqlite, kPostgres };

inline const char* PgUrl() { return std::getenv("SCIMD_TEST_PG_URL"); }

// Boost.Test precondition: PostgreSQL cases run only when SCIMD_TEST_PG_URL is set.
struct PgAvailable {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result result(PgUrl() != nullptr && *PgUrl() != '\0');
    result.message() << "SCIMD_TEST_PG_URL is not set";
    return result;
  }
};

// `url` with its database name replaced.
inline std::string WithDatabase(const std::string& url, const std::string& name) {
  auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + name;
}

template <class T>
std::string Unwrap(const Result<T>& result) {
  return result.ok() ? std::string() : result.error().detail;
}

// A migrated, empty database that disappears at the end of the test.
class TestDatabase {
 public:
  explicit TestDatabase(Backend backend, size_t pool_size = 8) : backend_(backend) {
    static std::atomic<int> counter{0};
    int n = counter++;
    if (backend == Backend::kSqlite) {
      path_ =
          "/tmp/scimd-delivery-test-" + std::to_string(getpid()) + "-" + std::to_string(n) + ".db";
      Cleanup();
      url_ = "sqlite:" + path_;
    } else {
      name_ = "scimd_delivery_" + std::to_string(getpid()) + "_" + std::to_string(n);
      auto admin = store::Database::Open(PgUrl(), 1);
      BOOST_TEST_REQUIRE(admin.ok(), "cannot open " << PgUrl());
      Status created = store::testing::Exec(**admin, "CREATE DATABASE " + name_);
      BOOST_TEST_REQUIRE(created.ok(), Unwrap(created));
      url_ = WithDatabase(PgUrl(), name_);
    }
    db_ = Open(pool_size);
    Status migrated = db_->Migrate();
    BOOST_TEST_REQUIRE(migrated.ok(), Unwrap(migrated));
  }

  ~TestDatabase() {
    db_.reset();
    if (backend_ == Backend::kSqlite) {
      Cleanup();
    } else {
      auto admin = store::Database::Open(PgUrl(), 1);
      if (admin.ok()) {
        (void)store::testing::Exec(**admin, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      }
    }
  }

  // Another handle on the same database (as a second scimd process would have).
  std::shared_ptr<store::Database> Open(size_t pool_size = 8) const {
    auto db = store::Database::Open(url_, pool_size);
    BOOST_TEST_REQUIRE(db.ok(), "cannot open " << url_);
    return *db;
  }

  std::shared_ptr<store::Database> db() const { return db_; }
  store::Database& operator*() const { return *db_; }
  const std::string& url() const { return url_; }
  Backend backend() const { return backend_; }

 private:
  void Cleanup() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::remove((path_ + suffix).c_str());
    }
  }

  Backend backend_;
  std::string path_, name_, url_;
  std::shared_ptr<store::Database> db_;
};

// A connection of its own to the test database, to hold a transaction open (Exec "BEGIN").
inline std::unique_ptr<store::testing::Connection> Connect(const std::string& url) {
  auto connection = store::testing::Connection::Open(url);
  BOOST_TEST_REQUIRE(connection.ok(), Unwrap(connection));
  return std::move(*connection);
}

inline void Exec(store::testing::Connection& c, const std::string& sql,
                 const std::vector<store::testing::SqlParam>& params = {}) {
  Status st = c.Exec(sql, params);
  BOOST_TEST_REQUIRE(st.ok(), Unwrap(st));
}

// Inserts an outbox row as the store's RecordChange does, in `c`'s open transaction (or
// autocommit); returns its seq.
inline int64_t InsertOutboxRow(store::testing::Connection& c, const std::string& tenant,
                               const std::string& type, const std::string& id,
                               const std::string& kind) {
  auto seq = c.InsertOutboxRow(tenant, type, id, kind);
  BOOST_TEST_REQUIRE(seq.ok(), Unwrap(seq));
  return *seq;
}

// Commits one outbox event (tenant "t1") and returns its seq.
inline int64_t AddEvent(store::Database& db, const std::string& id, const std::string& kind,
                        const std::string& type = "User") {
  auto seq = store::testing::InsertOutboxRow(db, "t1", type, id, kind);
  BOOST_TEST_REQUIRE(seq.ok(), Unwrap(seq));
  return *seq;
}

// One integer from a query with one parameter; -1 when there is no row (or it is NULL).
inline long long QueryInt(store::Database& db, const std::string& sql,
                          const store::testing::SqlParam& param) {
  auto value = store::testing::QueryInt(db, sql, {param});
  BOOST_TEST_REQUIRE(value.ok(), Unwrap(value) << " in " << sql);
  return value->value_or(-1);
}

// One text from a query with one parameter; "<null>" when there is no row or it is NULL.
inline std::string QueryText(store::Database& db, const std::string& sql,
                             const store::testing::SqlParam& param) {
  auto value = store::testing::QueryText(db, sql, {param});
  BOOST_TEST_REQUIRE(value.ok(), Unwrap(value) << " in " << sql);
  return value->value_or("<null>");
}

inline void Exec(store::Database& db, const std::string& sql) {
  Status st = store::testing::Exec(db, sql);
  BOOST_TEST_REQUIRE(st.ok(), Unwrap(st) << " in " << sql);
}

inline std::string DeliveryStatusOf(store::Database& db, const std::string& target, int64_t seq) {
  auto status =
      store::testing::QueryText(db, "SELECT status FROM deliveries WHERE target = :t AND seq = :s",
                                {target, static_cast<long long>(seq)});
  BOOST_TEST_REQUIRE(status.ok(), Unwrap(status));
  return status->value_or("<none>");
}

inline int64_t DeliveryIdOf(store::Database& db, const std::string& target, int64_t seq) {
  auto id = store::testing::QueryInt(db, "SELECT id FROM deliveries WHERE target = :t AND seq = :s",
                                     {target, static_cast<long long>(seq)});
  BOOST_TEST_REQUIRE(id.ok(), Unwrap(id));
  return id->value_or(-1);
}

// Polls `done` every 10 ms for up to `timeout`; true when it became true.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// One Deliver() call as the fake saw it.
struct Call {
  std::string adapter;  // which FakeAdapter instance (dispatcher) made it
  int64_t seq = 0;
  std::string resource_id;
  events::ChangeKind kind = events::ChangeKind::kCreated;
  int attempt = 0;  // 1 for the first call of this seq
  std::optional<std::string> target_id;
  std::map<std::string, std::string> linked_ids;
  std::string idempotency_key;
  std::optional<std::string> lookup;  // lookup_target_id(lookup_of), when the script asked
  events::DeliveryStatus result = events::DeliveryStatus::kDelivered;
  std::string payload;         // the event's payload as sent
  int attempt_of_context = 0;  // DeliveryContext::attempt
};

// Calls of every FakeAdapter sharing it, in the order they returned; also flags two calls for
// one resource running at the same time.
class Recorder {
 public:
  void Begin(const std::string& resource) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!active_.insert(resource).second) ++overlaps_;
  }
  void End(const std::string& resource, Call call) {
    std::lock_guard<std::mutex> lock(mu_);
    active_.erase(resource);
    calls_.push_back(std::move(call));
  }
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  size_t DeliveredCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const Call& c : calls_) n += c.result == events::DeliveryStatus::kDelivered;
    return n;
  }
  int overlaps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return overlaps_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::set<std::string> active_;
  int overlaps_ = 0;
};

// A scriptable target. By default every event is delivered and linked as "<name>-<resource id>"
// (deletes unlink). It does not coalesce unless SetCoalesces(true) (the tests written for one call
// per event keep it; tests/delivery/coalesce_test.cc turns it on).
class FakeAdapter : public events::TargetAdapter {
 public:
  using Script = std::function<events::DeliveryOutcome(const events::ChangeEvent&, int attempt)>;

  FakeAdapter(std::string name, std::shared_ptr<Recorder> recorder,
              std::set<std::string> types = {"User", "Group"})
      : name_(std::move(name)), recorder_(std::move(recorder)), types_(std::move(types)) {}

  std::string_view Name() const override { return name_; }
  std::string_view Type() const override { return "fake"; }
  bool Handles(const events::ChangeEvent& event) const override {
    return types_.contains(event.resource_type);
  }

  bool Coalesces() const override { return coalesces_.load(); }
  void SetCoalesces(bool on) { coalesces_.store(on); }

  events::DeliveryOutcome Deliver(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) override {
    recorder_->Begin(event.resource_id);
    Call call;
    call.payload = event.payload;
    call.attempt_of_context = context.attempt;
    call.adapter = instance_;
    call.seq = event.seq;
    call.resource_id = event.resource_id;
    call.kind = event.kind;
    call.target_id = context.target_id;
    call.linked_ids = context.linked_ids;
    call.idempotency_key = context.idempotency_key;
    Script script;
    std::string lookup_of;
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard<std::mutex> lock(mu_);
      call.attempt = ++attempts_[event.seq];
      script = script_;
      lookup_of = lookup_of_;
      delay = delay_;
    }
    if (!lookup_of.empty() && context.lookup_target_id)
      call.lookup = context.lookup_target_id(lookup_of);
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    events::DeliveryOutcome outcome;
    if (script) {
      outcome = script(event, call.attempt);
    } else if (event.kind == events::ChangeKind::kDeleted) {
      outcome = events::DeliveryOutcome::Unlinked();
    } else {
      outcome = events::DeliveryOutcome::Delivered(name_ + "-" + event.resource_id);
    }
    call.result = outcome.status;
    recorder_->End(event.resource_id, std::move(call));
    return outcome;
  }

  void SetScript(Script script) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(script);
  }
  void SetLookup(std::string resource_id) {
    std::lock_guard<std::mutex> lock(mu_);
    lookup_of_ = std::move(resource_id);
  }
  void SetDelay(std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> lock(mu_);
    delay_ = delay;
  }
  void SetInstance(std::string instance) { instance_ = std::move(instance); }

 private:
  std::string name_;
  std::shared_ptr<Recorder> recorder_;
  std::set<std::string> types_;
  std::string instance_ = "main";
  std::mutex mu_;
  Script script_;
  std::string lookup_of_;
  std::chrono::milliseconds delay_{0};
  std::map<int64_t, int> attempts_;
  std::atomic<bool> coalesces_{false};
};

// Checks that every seq in `expected` was delivered exactly once, and that each resource's
// deliveries happened in seq order.
inline void CheckExactlyOnceInOrder(const std::vector<Call>& calls,
                                    const std::vector<int64_t>& expected) {
  std::map<int64_t, int> delivered;
  std::map<std::string, int64_t> last_by_resource;
  for (const Call& c : calls) {
    if (c.result != events::DeliveryStatus::kDelivered) continue;
    ++delivered[c.seq];
    auto it = last_by_resource.find(c.resource_id);
    if (it != last_by_resource.end()) {
      BOOST_TEST(c.seq > it->second,
                 "resource " << c.resource_id << ": seq " << c.seq << " after " << it->second);
    }
    last_by_resource[c.resource_id] = c.seq;
  }
  BOOST_TEST(delivered.size() == expected.size());
  for (int64_t seq : expected) {
    BOOST_TEST(delivered[seq] == 1, "seq " << seq << " delivered " << delivered[seq] << " times");
  }
}

}  // namespace scim::delivery::testing
