#pragma once
// A database handle: the SOCI connection pool for one URL (sqlite:PATH or postgresql://...), its
// SQL dialect, and the migration runner. Thread-safe: each caller leases its own session.
// soci::soci_error never escapes this module: failures come back as Error (kUnavailable when
// the database cannot be reached, kUniqueness on a unique-constraint violation, else kInternal).
//
// PostgreSQL restarts (failover, upgrade): a pooled connection found broken is replaced when it
// is next leased, at most one reconnection attempt at a time and with a backoff (100 ms doubling
// to 5 s) while the server stays unreachable; meanwhile callers get kUnavailable at once. Once
// one connection has failed, every other one is checked (a round trip) before its next use, so
// after the server is back only the requests that were already on a dead connection fail. A
// transaction whose BEGIN fails on a dead connection is retried once on a new one (nothing had
// been sent). The outage is logged once when it starts and once when it ends.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scim/common/result.h"

// SOCI is store's own library (docs/architecture.md): this header names its session type but
// does not include it, so no other module compiles against SOCI. Only src/store/ (and its tests)
// run SQL through InTransaction/WithSession.
namespace soci {
class session;
class connection_pool;
}  // namespace soci

namespace scim::store {

enum class Dialect { kSqlite, kPostgres };

class Database {
 public:
  // Opens `url` with `pool_size` connections. SQLite gets WAL, a busy timeout, synchronous=FULL
  // and foreign keys, and a missing database file is created with mode 0600 (its -wal and -shm
  // files get the same mode); PostgreSQL gets the URL converted to a libpq connection string.
  static Result<std::shared_ptr<Database>> Open(const std::string& url, size_t pool_size = 8);

  // Applies the migrations of migrations/<dialect>/ (compiled in) not yet recorded in
  // schema_migrations, each in its own transaction. Safe to run concurrently from several
  // processes on PostgreSQL (advisory lock).
  Status Migrate();

  // A cheap round trip (SELECT 1) for /readyz.
  Status Ping();

  Dialect dialect() const { return dialect_; }
  size_t pool_size() const { return pool_size_; }
  // Pooled connections leased right now (for /metrics).
  size_t connections_in_use() const { return in_use_.load(std::memory_order_relaxed); }

  // How long a commit waits for the disk.
  //  - kDurable: an acknowledged commit survives a crash of the machine (SQLite synchronous=FULL,
  //    PostgreSQL as configured).
  //  - kReplayable: for bookkeeping that scimd redoes when it is lost (delivery claims, outcomes,
  //    fan-out): the commit is atomic and survives a crash of scimd, but a power loss or an OS
  //    crash may undo the last few of them (SQLite WAL synchronous=NORMAL, PostgreSQL
  //    synchronous_commit=off); the next durable commit makes them durable too.
  enum class CommitWait { kDurable, kReplayable };

  // Runs `work` with a leased session inside a transaction, committing when it returns ok and
  // rolling back otherwise. soci errors thrown by `work` are converted with ConvertError. On
  // SQLite the transaction is BEGIN IMMEDIATE so writers serialize instead of deadlocking.
  // Called again from inside `work` (same thread, same Database), it runs on the enclosing
  // transaction's session in a savepoint: an error (or exception) rolls back to the savepoint
  // only, and nothing is durable before the outermost transaction commits. This is how several
  // writes (a /Bulk request) share one commit and still fail one by one; `wait` is then the
  // outermost transaction's.
  Status InTransaction(const std::function<Status(soci::session&)>& work,
                       CommitWait wait = CommitWait::kDurable);

  // Runs `work` with a leased session, outside an explicit transaction. Inside InTransaction
  // on the same thread: on that transaction's session, in a savepoint (it sees the
  // transaction's uncommitted writes, and a failing statement does not abort it).
  Status WithSession(const std::function<Status(soci::session&)>& work);

  // Whether this thread has a transaction open on this database (work then runs in savepoints).
  bool InTransactionHere() const;

  // SQLite writer queue (InTransaction), for /metrics and tests. Foreground: threads not marked
  // with MarkBackgroundWriter (API requests); background: the delivery engine's threads.
  struct WriterStats {
    size_t foreground_waiting = 0;  // queued for the writer right now
    size_t background_waiting = 0;
    uint64_t foreground_wait_ns = 0;  // time spent queued so far
    uint64_t background_wait_ns = 0;
    uint64_t foreground_writes = 0;  // write transactions begun so far
    uint64_t background_writes = 0;
  };
  WriterStats writer_stats() const;

  // Maps a soci exception (or anything else) caught in this module's callers to an Error.
  static Error ConvertError(const std::exception& e);

  // Receives the two lines of a database outage ("connection lost ...", "connection restored
  // ..."). Set once, before other threads use the database.
  void SetConnectionLog(std::function<void(const std::string&)> log) { log_ = std::move(log); }

  ~Database();

 private:
  class Lease;
  Database(Dialect dialect, size_t pool_size);
  Status ApplyPendingMigrations(soci::session& s);
  // InTransaction/WithSession nested in this thread's open transaction.
  Status InSavepoint(const std::function<Status(soci::session&)>& work);
  // PostgreSQL: makes the leased session `pos` usable (checked, reconnected) or says why not.
  Status EnsureConnected(size_t pos);
  Status Reconnect(soci::session& s);
  // BEGIN (IMMEDIATE on SQLite), with `wait` applied, on session `pos`, on a new connection if the
  // old one was dead.
  Status Begin(size_t pos, CommitWait wait);
  // The Error for `e` thrown on session `pos`: kUnavailable, and an outage noted, when the
  // connection broke; else ConvertError.
  Error FailureOf(size_t pos, const std::exception& e);
  void NoteBrokenConnection();
  // SQLite: the body of idle_trimmer_ (see database.cc, kWriterIdle).
  void TrimIdleWriter();
  void Log(const std::string& message) const {
    if (log_) log_(message);
  }

  Dialect dialect_;
  size_t pool_size_;
  std::atomic<size_t> in_use_{0};
  std::unique_ptr<soci::connection_pool> pool_;
  std::mutex sqlite_write_mu_;  // SQLite: this process's write transactions, one at a time
  // SQLite: a background writer waits on writer_gate_cv_ (under writer_gate_mu_) while a
  // foreground one is queued for sqlite_write_mu_ (see database.cc, AcquireWriter).
  void AcquireWriter(std::unique_lock<std::mutex>& writer, bool background);
  std::mutex writer_gate_mu_;
  std::condition_variable writer_gate_cv_;
  std::atomic<size_t> foreground_waiting_{0};
  std::atomic<size_t> background_waiting_{0};
  std::atomic<uint64_t> foreground_wait_ns_{0};
  std::atomic<uint64_t> background_wait_ns_{0};
  std::atomic<uint64_t> foreground_writes_{0};
  std::atomic<uint64_t> background_writes_{0};
  // SQLite: when the last write transaction ended (steady clock ticks), and whether the writer's
  // page cache holds pages since it was last handed back (TrimIdleWriter).
  std::atomic<int64_t> last_write_end_{0};
  std::atomic<bool> writer_cache_used_{false};
  std::mutex trim_mu_;  // guards stopping_
  std::condition_variable trim_cv_;
  bool stopping_ = false;
  std::thread idle_trimmer_;  // SQLite only

  // Reconnection state (PostgreSQL). failure_epoch_ grows with every broken connection seen;
  // checked_epoch_[pos] is the epoch at which session `pos` was last known good (read and
  // written only by the thread leasing `pos`).
  std::atomic<uint64_t> failure_epoch_{0};
  std::vector<uint64_t> checked_epoch_;
  std::mutex reconnect_mu_;    // guards the fields below
  bool outage_ = false;        // a broken connection was seen and none reconnected since
  bool quiet_outage_ = false;  // this outage began just after a restore: not logged
  bool unreachable_ = false;   // the last reconnection attempt failed
  bool attempting_ = false;    // an attempt while unreachable is under way
  std::chrono::steady_clock::time_point outage_since_{};
  std::chrono::steady_clock::time_point restored_at_{};
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
  std::function<void(const std::string&)> log_;
};

// Marks the calling thread a background writer for good (the delivery engine's threads): on
// SQLite, its write transactions let the foreground ones (API requests) of the same process
// that are queued for the single writer go first, so a provisioning client does not wait
// behind delivery bookkeeping. A background writer still goes after at most
// kBackgroundYieldLimit (database.cc) of waiting, so it is never starved. No effect on
// PostgreSQL (row locks, no single writer).
void MarkBackgroundWriter();

}  // namespace scim::store
