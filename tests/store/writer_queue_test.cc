// The SQLite writer queue (Database::InTransaction): write transactions of threads marked with
// MarkBackgroundWriter (the delivery engine's) let the queued foreground ones (API requests) go
// first, and still get their turn. Ordering only, no timing assertion. On PostgreSQL (no single
// writer) a background thread's writes simply run.

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scim/store/database.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

// Polls `done` (1 ms steps, up to 20 s): the test waits for queue states, not for durations.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 20000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

void Insert(soci::session& s, const std::string& name) {
  s << "INSERT INTO tenants (name, created) VALUES (:n, '2026-12-07T00:00:00.000Z')",
      soci::use(name, "n");
}

// A holds the writer; B (background) queues, then F (foreground) queues; once A commits, F's
// transaction runs before B's although B asked first.
BOOST_AUTO_TEST_CASE(foreground_write_goes_before_queued_background_write) {
  ScratchDatabase scratch(false, "writerq");
  Database& db = *scratch.db;
  std::atomic<bool> release{false};
  std::atomic<bool> holding{false};
  std::mutex order_mu;
  std::vector<std::string> order;
  auto note = [&](const std::string& who) {
    std::lock_guard<std::mutex> lock(order_mu);
    order.push_back(who);
  };
  std::thread a([&] {
    Status st = db.InTransaction([&](soci::session& s) -> Status {
      Insert(s, "wq-a");
      holding = true;
      while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return OkStatus();
    });
    BOOST_TEST(st.ok());
  });
  BOOST_TEST_REQUIRE(Eventually([&] { return holding.load(); }));
  const auto before = db.writer_stats();
  std::thread b([&] {
    MarkBackgroundWriter();
    Status st = db.InTransaction([&](soci::session& s) -> Status {
      note("background");
      Insert(s, "wq-b");
      return OkStatus();
    });
    BOOST_TEST(st.ok());
  });
  BOOST_TEST_REQUIRE(Eventually([&] { return db.writer_stats().background_waiting == 1; }));
  std::thread f([&] {
    Status st = db.InTransaction([&](soci::session& s) -> Status {
      note("foreground");
      Insert(s, "wq-f");
      return OkStatus();
    });
    BOOST_TEST(st.ok());
  });
  BOOST_TEST_REQUIRE(Eventually([&] { return db.writer_stats().foreground_waiting == 1; }));
  release = true;
  a.join();
  f.join();
  b.join();
  BOOST_TEST_REQUIRE(order.size() == 2u);
  BOOST_TEST(order[0] == "foreground");
  BOOST_TEST(order[1] == "background");
  const auto after = db.writer_stats();
  BOOST_TEST(after.background_writes == before.background_writes + 1);
  BOOST_TEST(after.foreground_writes == before.foreground_writes + 1);  // f (a was counted)
  BOOST_TEST(after.foreground_waiting == 0u);
  BOOST_TEST(after.background_waiting == 0u);
}

// Background writes are not starved: with foreground writers queueing one after the other
// without a pause, a background write still commits (after kBackgroundYieldLimit at most).
void BackgroundWriteNotStarved(bool postgres) {
  ScratchDatabase scratch(postgres, "writerq");
  Database& db = *scratch.db;
  std::atomic<bool> stop{false};
  std::vector<std::thread> foreground;
  std::atomic<int> written{0};
  for (int t = 0; t < 3; ++t) {
    foreground.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        Status st = db.InTransaction([&](soci::session& s) -> Status {
          Insert(s, "wq-f" + std::to_string(t) + "-" + std::to_string(i));
          return OkStatus();
        });
        if (st.ok()) ++written;
      }
    });
  }
  BOOST_TEST_REQUIRE(Eventually([&] { return written.load() > 10; }));
  std::atomic<bool> done{false};
  std::thread b([&] {
    MarkBackgroundWriter();
    Status st = db.InTransaction([&](soci::session& s) -> Status {
      Insert(s, "wq-background");
      return OkStatus();
    });
    BOOST_TEST(st.ok());
    done = true;
  });
  BOOST_TEST(Eventually([&] { return done.load(); }));
  stop = true;
  b.join();
  for (auto& t : foreground) t.join();
}

BOOST_AUTO_TEST_CASE(background_write_not_starved_sqlite) { BackgroundWriteNotStarved(false); }
BOOST_AUTO_TEST_CASE(background_write_not_starved_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  BackgroundWriteNotStarved(true);
}

}  // namespace
}  // namespace scim::store
