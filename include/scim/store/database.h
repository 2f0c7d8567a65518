#pragma once
// A database handle: the SOCI connection pool for one URL (sqlite:PATH or postgresql://...), its
// SQL dialect, and the migration runner. Thread-safe: each caller leases its own session.
// soci::soci_error never escapes this module: failures come back as Error (kUnavailable when
// the database cannot be reached, kUniqueness on a unique-constraint violation, else kInternal).

#include <soci/soci.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "scim/common/result.h"

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

  // Runs `work` with a leased session inside a transaction, committing when it returns ok and
  // rolling back otherwise. soci errors thrown by `work` are converted with ConvertError. On
  // SQLite the transaction is BEGIN IMMEDIATE so writers serialize instead of deadlocking.
  Status InTransaction(const std::function<Status(soci::session&)>& work);

  // Runs `work` with a leased session, outside an explicit transaction.
  Status WithSession(const std::function<Status(soci::session&)>& work);

  // Maps a soci exception (or anything else) caught in this module's callers to an Error.
  static Error ConvertError(const std::exception& e);

  ~Database();

 private:
  Database(Dialect dialect, size_t pool_size);
  Status ApplyPendingMigrations(soci::session& s);
  Dialect dialect_;
  size_t pool_size_;
  std::unique_ptr<soci::connection_pool> pool_;
  std::mutex sqlite_write_mu_;  // SQLite: this process's write transactions, one at a time
};

}  // namespace scim::store
