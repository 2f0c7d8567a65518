#include "scim/store/database.h"

#include <fcntl.h>
#include <malloc.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>

#include "scim/common/clock.h"
#include "scim/common/log.h"
#include "scim/common/strings.h"
#include "scim/store/embedded.h"
#include "store/all_or_nothing.h"
#include "store/cached_sql.h"
#include "store/case_fold_migration.h"
#include "store/connection_url.h"
#include "store/pg_prepared.h"

namespace scim::store {
namespace {

constexpr long long kMigrationLockKey = 0x5C1A0D;

// SQLite: the pool session every write transaction (InTransaction) runs on, serialized by
// sqlite_write_mu_ and leased for good when the database opens, so that no reader gets it.
constexpr size_t kSqliteWriter = 0;

// SQLite: the writer's 64 MiB page cache (PRAGMA cache_size on kSqliteWriter) is handed back
// (sqlite3_db_release_memory, then malloc_trim) once no write transaction ran for kWriterIdle;
// checked every kTrimCheck. A burst of writes refills it; idle, the process keeps ~no cache.
constexpr std::chrono::seconds kWriterIdle{2};
constexpr std::chrono::milliseconds kTrimCheck{500};

// The transaction this thread has open, if any: InTransaction and WithSession called again on
// the same thread (for the same Database) run on its session, in a savepoint.
struct OpenTransaction {
  const Database* db;
  size_t pos;
  int savepoints;  // nesting depth, for unique savepoint names
  // NestWithoutSavepoints (all_or_nothing.h): nested work runs without a savepoint, and the
  // first failure among it (kept here) dooms the transaction.
  bool all_or_nothing = false;
  std::optional<Error> doomed = std::nullopt;
};
thread_local OpenTransaction* t_open_transaction = nullptr;

// MarkBackgroundWriter: this thread's SQLite write transactions yield to foreground ones.
thread_local bool t_background_writer = false;
// The longest a background writer yields to queued foreground ones before it queues alongside
// them (under a steady stream of API writes it would otherwise never get its turn).
// Measured with niced engine threads on a CPU-bound machine, 100 ms and 20 ms let the engine
// fall seconds behind while API writes queued all the time (docs/benchmarks.md, api-ratio).
constexpr std::chrono::milliseconds kBackgroundYieldLimit{10};

// Marks the thread's transaction open for the lifetime of the object.
class OpenTransactionScope {
 public:
  OpenTransactionScope(const Database* db, size_t pos) : open_{db, pos, 0, false, std::nullopt} {
    t_open_transaction = &open_;
  }
  ~OpenTransactionScope() { t_open_transaction = nullptr; }
  const std::optional<Error>& doomed() const { return open_.doomed; }
  OpenTransactionScope(const OpenTransactionScope&) = delete;
  OpenTransactionScope& operator=(const OpenTransactionScope&) = delete;

 private:
  OpenTransaction open_;
};

using SteadyClock = std::chrono::steady_clock;
// Reconnection attempts while PostgreSQL stays unreachable: 100 ms, doubling up to 5 s.
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
// Dead connections found this soon after a restore are not logged as a new outage.
constexpr std::chrono::seconds kQuietAfterRestore{10};

// Splits a migration file into statements: ';' at the end of a line ends one. Comment lines are
// dropped. Our migrations keep semicolons out of literals, which this relies on.
std::vector<std::string> SplitStatements(const std::string& text) {
  std::vector<std::string> statements;
  std::string current;
  for (const std::string& raw : Split(text, '\n')) {
    std::string_view line = Trim(raw);
    if (line.empty() || line.substr(0, 2) == "--") continue;
    if (auto comment = line.find(" --"); comment != std::string_view::npos) {
      line = Trim(line.substr(0, comment));
    }
    current.append(line).push_back('\n');
    if (!line.empty() && line.back() == ';') {
      statements.push_back(current);
      current.clear();
    }
  }
  if (!Trim(current).empty()) statements.push_back(current);
  return statements;
}

// Version number of "sqlite/001_initial.sql" → 1.
int MigrationVersion(const std::string& name) {
  auto slash = name.find('/');
  return std::atoi(name.c_str() + (slash == std::string::npos ? 0 : slash + 1));
}

void ConfigurePostgres(soci::session& s) {
  s << "SET client_min_messages TO WARNING";  // no NOTICE lines on stderr
}

// libpq marks a connection bad once it has seen it fail (server gone, socket closed); a session
// whose reconnection failed has no backend at all. PostgreSQL sessions only (soci's backend
// classes export no typeinfo, so the cast is static).
bool ConnectionBroken(soci::session& s) {
  soci::details::session_backend* backend = s.get_backend();
  if (backend == nullptr) return true;
  return PQstatus(static_cast<soci::postgresql_session_backend*>(backend)->conn_) != CONNECTION_OK;
}

void ConfigureSqlite(soci::session& s) {
  s << "PRAGMA journal_mode=WAL";
  s << "PRAGMA synchronous=FULL";  // an acknowledged commit survives kill -9 and power loss
  s << "PRAGMA busy_timeout=10000";
  s << "PRAGMA foreign_keys=ON";
  // Savepoints (one per /Bulk operation) keep their undo pages in a statement journal: in memory
  // rather than a temporary file. A 16 MiB page cache per connection keeps a transaction of a
  // few hundred writes from spilling pages to the WAL before it commits (measured: pwrite and
  // pread were the top of a /Bulk profile with the 2 MiB default).
  s << "PRAGMA temp_store=MEMORY";
  s << "PRAGMA cache_size=-16384";
}

// SQLite would create a missing database file with mode 0644 (less the umask), readable by every
// local user, and it holds password and token hashes. The file is created here first with mode
// 0600; SQLite gives the -wal and -shm files it creates later the mode of the database file.
// An existing file keeps its mode. ":memory:" and "file:" URIs are left to SQLite.
Status CreatePrivateSqliteFile(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return OkStatus();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return OkStatus();
    return Error(ErrorCode::kUnavailable,
                 "cannot create database file " + path + ": " + std::strerror(errno));
  }
  int changed = ::fchmod(fd, 0600);  // exactly 0600 whatever the umask took away
  ::close(fd);
  if (changed != 0) {
    return Error(ErrorCode::kUnavailable, "cannot set mode 0600 on " + path);
  }
  return OkStatus();
}

// SOCI appends the statement and its bound values (password hashes, whole resources) to its
// messages; logs get the driver's reason only.
std::string WithoutStatement(const std::string& message) {
  auto at = message.find(" while executing");
  if (at == std::string::npos) at = message.find(" while preparing");
  return FirstLine(at == std::string::npos ? message : message.substr(0, at));
}

}  // namespace

void MarkBackgroundWriter() { t_background_writer = true; }

// A pool session leased for one operation, given back when this goes out of scope.
class Database::Lease {
 public:
  Lease(soci::connection_pool& pool, std::atomic<size_t>& in_use)
      : pool_(pool), in_use_(in_use), pos_(pool.lease()) {
    in_use_.fetch_add(1, std::memory_order_relaxed);
  }
  ~Lease() {
    in_use_.fetch_sub(1, std::memory_order_relaxed);
    pool_.give_back(pos_);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  size_t pos() const { return pos_; }

 private:
  soci::connection_pool& pool_;
  std::atomic<size_t>& in_use_;
  size_t pos_;
};

Database::Database(Dialect dialect, size_t pool_size)
    : dialect_(dialect),
      pool_size_(pool_size),
      pool_(new soci::connection_pool(pool_size)),
      checked_epoch_(pool_size, 0) {}

Database::~Database() {
  if (idle_trimmer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(trim_mu_);
      stopping_ = true;
    }
    trim_cv_.notify_all();
    idle_trimmer_.join();
  }
  // Statements cached per connection (cached_sql.h) are finalized first: sqlite3_close fails
  // while any remains.
  for (size_t i = 0; i < pool_size_; ++i) ForgetCachedStatements(pool_->at(i));
}

Result<std::shared_ptr<Database>> Database::Open(const std::string& url, size_t pool_size) {
  SCIM_TRY(auto parsed, ParseConnectionUrl(url));
  if (parsed.dialect == Dialect::kSqlite) {
    SCIM_RETURN_IF_ERROR(CreatePrivateSqliteFile(parsed.sqlite_path));
  }
  // SQLite: one session more than asked, the writer's (kSqliteWriter).
  size_t sessions = std::max<size_t>(1, pool_size) + (parsed.dialect == Dialect::kSqlite ? 1 : 0);
  std::shared_ptr<Database> db(new Database(parsed.dialect, sessions));
  try {
    for (size_t i = 0; i < db->pool_size_; ++i) {
      soci::session& s = db->pool_->at(i);
      if (parsed.dialect == Dialect::kSqlite) {
        s.open(soci::sqlite3, parsed.connect_string);
        ConfigureSqlite(s);
      } else {
        s.open(soci::postgresql, parsed.connect_string);
        ConfigurePostgres(s);
      }
    }
    if (parsed.dialect == Dialect::kSqlite) {
      // Leased for good: no reader gets it. Its page cache is larger, and stays valid from one
      // write transaction to the next (SQLite drops a connection's whole cache when it finds
      // the database changed by another connection since its last transaction).
      // A fresh pool leases its first free session: the writer's is session 0.
      if (db->pool_->lease() != kSqliteWriter) {
        return Error(ErrorCode::kInternal, "the SQLite writer session is not the first");
      }
      db->pool_->at(kSqliteWriter) << "PRAGMA cache_size=-65536";
      // Readers do not map the file (PRAGMA mmap_size): measured at 1,000,000 users (issue 12,
      // docs/benchmarks.md "Read path, round 3"), a GET cost 0.30 ms of CPU mapped against 0.18
      // through pread (page faults mapping 16 pages each on this VM) and RssFile grew by ~64 kB
      // per GET, towards the 2 GiB map.
      db->idle_trimmer_ = std::thread([raw = db.get()] { raw->TrimIdleWriter(); });
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kUnavailable,
                 "cannot open database " + parsed.redacted + ": " + FirstLine(e.what()));
  }
  return db;
}

void NestWithoutSavepoints(const Database& db) {
  if (db.InTransactionHere()) t_open_transaction->all_or_nothing = true;
}

bool TransactionDoomed(const Database& db) {
  return db.InTransactionHere() && t_open_transaction->doomed.has_value();
}

bool Database::InTransactionHere() const {
  return t_open_transaction != nullptr && t_open_transaction->db == this;
}

Status Database::WithSession(const std::function<Status(soci::session&)>& work) {
  if (InTransactionHere()) return InSavepoint(work);
  Lease lease(*pool_, in_use_);
  SCIM_RETURN_IF_ERROR(EnsureConnected(lease.pos()));
  try {
    return work(pool_->at(lease.pos()));
  } catch (const std::exception& e) {
    return FailureOf(lease.pos(), e);
  }
}

Status Database::InTransaction(const std::function<Status(soci::session&)>& work, CommitWait wait) {
  if (InTransactionHere()) return InSavepoint(work);
  // SQLite has one writer at a time; threads that wait in its busy handler sleep in steps (1, 2,
  // 5 ms...) and lose their turn. Queueing them on a mutex hands the lock over at once.
  // SQLite: every write transaction of this process runs on the writer's session, whose page
  // cache is then still warm from the previous one.
  std::unique_lock<std::mutex> sqlite_writer(sqlite_write_mu_, std::defer_lock);
  std::optional<Lease> lease;
  size_t pos = kSqliteWriter;
  struct WriterInUse {  // the writer's session counts as leased while it writes
    Database* db = nullptr;
    ~WriterInUse() {
      if (db == nullptr) return;
      // Still under sqlite_write_mu_ (destroyed before the lock): TrimIdleWriter sees both.
      db->last_write_end_.store(SteadyClock::now().time_since_epoch().count(),
                                std::memory_order_relaxed);
      db->writer_cache_used_.store(true, std::memory_order_relaxed);
      db->in_use_.fetch_sub(1, std::memory_order_relaxed);
    }
  } writer_in_use;
  if (dialect_ == Dialect::kSqlite) {
    AcquireWriter(sqlite_writer, t_background_writer);
    in_use_.fetch_add(1, std::memory_order_relaxed);
    writer_in_use.db = this;
  } else {
    lease.emplace(*pool_, in_use_);
    pos = lease->pos();
  }
  soci::session& s = pool_->at(pos);
  // SQLite's synchronous is the connection's: the writer's goes back to FULL after this one,
  // also when BEGIN failed after Begin set it.
  struct RestoreSynchronous {
    soci::session* s = nullptr;
    ~RestoreSynchronous() {
      if (s == nullptr) return;
      try {
        *s << "PRAGMA synchronous=FULL";
      } catch (...) {  // cannot fail on an open connection; nothing to undo otherwise
      }
    }
  } restore{dialect_ == Dialect::kSqlite && wait == CommitWait::kReplayable ? &s : nullptr};
  SCIM_RETURN_IF_ERROR(Begin(pos, wait));
  try {
    Status result;
    try {
      OpenTransactionScope open(this, pos);
      result = work(s);
      if (open.doomed() && result.ok()) result = *open.doomed();
    } catch (...) {
      s << "ROLLBACK";
      throw;
    }
    s << (result.ok() ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (const std::exception& e) {
    return FailureOf(pos, e);
  }
}

// SQLite's single writer, API writes first: a foreground writer counts itself queued while it
// waits for sqlite_write_mu_; a background writer (MarkBackgroundWriter) waits until none is
// queued, takes the mutex, and hands it back to go behind again when a foreground writer queued
// meanwhile (std::mutex is not fair), for at most kBackgroundYieldLimit in all. Measured in
// docs/benchmarks.md "API latency while delivering (api-ratio)".
void Database::AcquireWriter(std::unique_lock<std::mutex>& writer, bool background) {
  const auto start = SteadyClock::now();
  auto waited = [&] {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count());
  };
  if (!background) {
    foreground_waiting_.fetch_add(1);
    writer.lock();
    if (foreground_waiting_.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> gate(writer_gate_mu_);  // no lost wake-up
      writer_gate_cv_.notify_all();
    }
    foreground_wait_ns_.fetch_add(waited(), std::memory_order_relaxed);
    foreground_writes_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  background_waiting_.fetch_add(1);
  const auto deadline = start + kBackgroundYieldLimit;
  for (;;) {
    {
      std::unique_lock<std::mutex> gate(writer_gate_mu_);
      writer_gate_cv_.wait_until(gate, deadline, [&] { return foreground_waiting_.load() == 0; });
    }
    writer.lock();
    if (foreground_waiting_.load() == 0 || SteadyClock::now() >= deadline) break;
    writer.unlock();
  }
  background_waiting_.fetch_sub(1);
  background_wait_ns_.fetch_add(waited(), std::memory_order_relaxed);
  background_writes_.fetch_add(1, std::memory_order_relaxed);
}

Database::WriterStats Database::writer_stats() const {
  WriterStats stats;
  stats.foreground_waiting = foreground_waiting_.load();
  stats.background_waiting = background_waiting_.load();
  stats.foreground_wait_ns = foreground_wait_ns_.load(std::memory_order_relaxed);
  stats.background_wait_ns = background_wait_ns_.load(std::memory_order_relaxed);
  stats.foreground_writes = foreground_writes_.load(std::memory_order_relaxed);
  stats.background_writes = background_writes_.load(std::memory_order_relaxed);
  return stats;
}

// SAVEPOINT works the same on SQLite and PostgreSQL: ROLLBACK TO undoes the work since the
// savepoint (and, on PostgreSQL, clears the aborted state a failed statement leaves) and keeps
// the savepoint, RELEASE removes it.
Status Database::InSavepoint(const std::function<Status(soci::session&)>& work) {
  OpenTransaction& open = *t_open_transaction;
  soci::session& s = pool_->at(open.pos);
  if (open.all_or_nothing) {
    Status result;
    try {
      result = work(s);
    } catch (const std::exception& e) {
      result = FailureOf(open.pos, e);
    }
    if (!result.ok() && !open.doomed) open.doomed = result.error();
    return result;
  }
  const std::string name = "scimd_sp" + std::to_string(++open.savepoints);
  struct Depth {
    int& n;
    ~Depth() { --n; }
  } depth{open.savepoints};
  try {
    // Prepared once per connection and depth (cached_sql.h): one per /Bulk operation.
    RunCached(s, dialect_, "sp_" + name, "SAVEPOINT " + name, {});
    Status result;
    try {
      result = work(s);
    } catch (...) {
      s << "ROLLBACK TO SAVEPOINT " + name;
      s << "RELEASE SAVEPOINT " + name;
      throw;
    }
    if (!result.ok()) s << "ROLLBACK TO SAVEPOINT " + name;
    RunCached(s, dialect_, "rel_" + name, "RELEASE SAVEPOINT " + name, {});
    return result;
  } catch (const std::exception& e) {
    return FailureOf(open.pos, e);
  }
}

Status Database::Begin(size_t pos, CommitWait wait) {
  const bool replayable = wait == CommitWait::kReplayable;
  for (int attempt = 0;; ++attempt) {
    SCIM_RETURN_IF_ERROR(EnsureConnected(pos));
    soci::session& s = pool_->at(pos);
    try {
      // In WAL mode NORMAL skips the fsync at commit; a crash of scimd loses nothing, a power
      // loss may roll back to the last synced commit (sqlite.org/pragma.html#pragma_synchronous).
      if (dialect_ == Dialect::kSqlite && replayable) s << "PRAGMA synchronous=NORMAL";
      if (dialect_ == Dialect::kPostgres && replayable) {
        // PostgreSQL: the commit returns before its WAL is flushed; a server crash may lose the
        // last ones, never half of one (postgresql.org/docs/15/wal-async-commit.html). Both
        // commands in one simple-protocol query: one round trip per delivery bookkeeping
        // transaction instead of two.
        PGconn* conn = PgConnOf(s);
        PGresult* res = PQexec(conn, "BEGIN; SET LOCAL synchronous_commit = off");
        if (PQresultStatus(res) != PGRES_COMMAND_OK) ThrowPgError(conn, res);
        PQclear(res);
        return OkStatus();
      }
      s << (dialect_ == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
      return OkStatus();
    } catch (const std::exception& e) {
      Error error = FailureOf(pos, e);
      // Nothing of the transaction reached the server: on a dead connection, once more.
      if (attempt > 0 || dialect_ != Dialect::kPostgres || !ConnectionBroken(s)) return error;
    }
  }
}

Error Database::FailureOf(size_t pos, const std::exception& e) {
  if (dialect_ == Dialect::kPostgres && ConnectionBroken(pool_->at(pos))) {
    NoteBrokenConnection();
    return Error(ErrorCode::kUnavailable, "database unavailable");
  }
  return ConvertError(e);
}

void Database::NoteBrokenConnection() {
  failure_epoch_.fetch_add(1);
  std::lock_guard<std::mutex> lock(reconnect_mu_);
  if (outage_) return;
  outage_ = true;
  outage_since_ = SteadyClock::now();
  // Connections found dead just after a restore belong to the outage that was just logged.
  quiet_outage_ = outage_since_ - restored_at_ < kQuietAfterRestore;
  if (!quiet_outage_) {
    Log("connection to the database lost; reconnecting (requests get 503 meanwhile)");
  }
}

Status Database::EnsureConnected(size_t pos) {
  if (dialect_ != Dialect::kPostgres) return OkStatus();
  soci::session& s = pool_->at(pos);
  uint64_t epoch = failure_epoch_.load();
  bool broken = ConnectionBroken(s);
  if (!broken && checked_epoch_[pos] == epoch) return OkStatus();
  if (!broken) {
    // Another connection failed since this one was last used: it may be dead too.
    try {
      s << "SELECT 1";
      checked_epoch_[pos] = epoch;
      return OkStatus();
    } catch (const std::exception& e) {
      if (!ConnectionBroken(s)) return ConvertError(e);
      NoteBrokenConnection();
    }
  }
  SCIM_RETURN_IF_ERROR(Reconnect(s));
  checked_epoch_[pos] = epoch;
  return OkStatus();
}

Status Database::Reconnect(soci::session& s) {
  const Error unavailable(ErrorCode::kUnavailable, "database unavailable");
  {
    std::lock_guard<std::mutex> lock(reconnect_mu_);
    // While the server is unreachable one thread at a time tries, after the backoff; the others
    // fail at once instead of waiting for a connection timeout each.
    if (unreachable_ && (attempting_ || SteadyClock::now() < next_attempt_)) return unavailable;
    if (unreachable_) attempting_ = true;
  }
  std::string failure;
  try {
    ForgetCachedStatements(s);
    s.reconnect();
    ConfigurePostgres(s);
  } catch (const std::exception& e) {
    failure = WithoutStatement(e.what());
    if (failure.empty()) failure = "unknown error";
  }
  std::lock_guard<std::mutex> lock(reconnect_mu_);
  attempting_ = false;
  auto now = SteadyClock::now();
  if (failure.empty()) {
    if (outage_ && !quiet_outage_) {
      auto lasted = std::chrono::duration_cast<std::chrono::milliseconds>(now - outage_since_);
      Log("connection to the database restored after " + std::to_string(lasted.count()) + " ms");
    }
    if (outage_) restored_at_ = now;
    outage_ = unreachable_ = false;
    backoff_ = std::chrono::milliseconds(0);
    return OkStatus();
  }
  if (!outage_ || quiet_outage_) {
    outage_since_ = outage_ ? outage_since_ : now;
    outage_ = true;
    quiet_outage_ = false;
    Log("cannot reconnect to the database (" + failure + "); retrying with backoff");
  }
  unreachable_ = true;
  backoff_ = std::min(kMaxBackoff, std::max(kFirstBackoff, backoff_ * 2));
  next_attempt_ = now + backoff_;
  return unavailable;
}

void Database::TrimIdleWriter() {
  std::unique_lock<std::mutex> lock(trim_mu_);
  while (!trim_cv_.wait_for(lock, kTrimCheck, [this] { return stopping_; })) {
    if (!writer_cache_used_.load(std::memory_order_relaxed)) continue;
    SteadyClock::time_point last(
        SteadyClock::duration(last_write_end_.load(std::memory_order_relaxed)));
    if (SteadyClock::now() - last < kWriterIdle) continue;
    std::unique_lock<std::mutex> writer(sqlite_write_mu_, std::try_to_lock);
    if (!writer.owns_lock()) continue;  // a write is running: not idle
    writer_cache_used_.store(false, std::memory_order_relaxed);
    auto* backend =
        static_cast<soci::sqlite3_session_backend*>(pool_->at(kSqliteWriter).get_backend());
    if (backend != nullptr) sqlite_api::sqlite3_db_release_memory(backend->conn_);
    writer.unlock();
    // The pages went back to malloc; glibc keeps freed memory below its trim threshold (8 MB,
    // main.cc) and in the middle of its heaps: give it back to the kernel.
    malloc_trim(0);
  }
}

Status Database::Ping() {
  return WithSession([](soci::session& s) -> Status {
    int one = 0;
    s << "SELECT 1", soci::into(one);
    if (one != 1) return Error(ErrorCode::kUnavailable, "database ping failed");
    return OkStatus();
  });
}

Status Database::Migrate() {
  return WithSession([this](soci::session& s) -> Status {
    s << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
         "name TEXT NOT NULL, applied TEXT NOT NULL)";
    if (dialect_ == Dialect::kPostgres) s << "SELECT pg_advisory_lock(" << kMigrationLockKey << ")";
    Status status = ApplyPendingMigrations(s);
    if (dialect_ == Dialect::kPostgres)
      s << "SELECT pg_advisory_unlock(" << kMigrationLockKey << ")";
    return status;
  });
}

Status Database::ApplyPendingMigrations(soci::session& s) {
  const std::string prefix = dialect_ == Dialect::kSqlite ? "sqlite/" : "postgresql/";
  for (const EmbeddedFile& file : EmbeddedMigrationFiles()) {
    std::string name = file.name;
    if (name.rfind(prefix, 0) != 0) continue;
    int version = MigrationVersion(name);
    long long applied = 0;
    s << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", soci::use(version),
        soci::into(applied);
    if (applied > 0) continue;
    s << (dialect_ == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    try {
      for (const std::string& statement : SplitStatements(file.text)) s << statement;
      // What SQL cannot compute: Unicode case folding of the stored keys (ICU, in C++).
      if (version == kCaseFoldMigration) {
        RefoldCaseKeys(s, dialect_, [this](const std::string& m) {
          if (log_) {
            log_(m);
          } else {
            log::Warn("database: " + m);
          }
        });
      }
      std::string now = NowTimestamp();
      s << "INSERT INTO schema_migrations (version, name, applied) VALUES (:v, :n, :a)",
          soci::use(version), soci::use(name), soci::use(now);
      s << "COMMIT";
    } catch (...) {
      s << "ROLLBACK";
      throw;
    }
  }
  return OkStatus();
}

Error Database::ConvertError(const std::exception& e) {
  if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    std::string state = pg->sqlstate();
    if (state == "23505") return Error(ErrorCode::kUniqueness, "unique constraint violated");
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P03") {
      return Error(ErrorCode::kUnavailable, "database unavailable");
    }
    if (state == "40001" || state == "40P01") {
      return Error(ErrorCode::kConflict, "concurrent update, retry");
    }
  }
  if (auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    std::string what = lite->what();
    if (lite->result() == 19 && what.find("UNIQUE") != std::string::npos) {
      return Error(ErrorCode::kUniqueness, "unique constraint violated");
    }
    if (lite->result() == 5 || lite->result() == 6) {  // SQLITE_BUSY / SQLITE_LOCKED
      return Error(ErrorCode::kUnavailable, "database busy");
    }
  }
  if (auto* soci_error = dynamic_cast<const soci::soci_error*>(&e)) {
    if (soci_error->get_error_category() == soci::soci_error::connection_error) {
      return Error(ErrorCode::kUnavailable, "database unavailable");
    }
  }
  return Error(ErrorCode::kInternal, "database error: " + WithoutStatement(e.what()));
}

}  // namespace scim::store
