#pragma once
// Store's test support for the tests of the modules above it (tests/delivery): they seed and
// inspect store's tables and hold a transaction open on a connection of their own, through this
// library (scim_store_testing, tests/CMakeLists.txt) instead of SOCI and store's private headers.
// Failures come back as Status / Result with the driver's message.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store::testing {

// A parameter bound to the statement's next placeholder (":name"), in order.
using SqlParam = std::variant<std::string, long long>;

// Runs one statement (outside a transaction).
Status Exec(Database& db, const std::string& sql, const std::vector<SqlParam>& params = {});

// The first column of the first row; nullopt when there is no row or the value is NULL.
Result<std::optional<long long>> QueryInt(Database& db, const std::string& sql,
                                          const std::vector<SqlParam>& params = {});
Result<std::optional<std::string>> QueryText(Database& db, const std::string& sql,
                                             const std::vector<SqlParam>& params = {});

// Inserts an outbox event as the store's RecordChange does (payload
// {"resource":{"id":ID,"userName":ID}}, "{}" for kind "deleted"; created 2026-01-01) and commits
// it; returns its seq.
Result<int64_t> InsertOutboxRow(Database& db, const std::string& tenant, const std::string& type,
                                const std::string& id, const std::string& kind,
                                long long version = 1);

// A connection of its own to a database (not one of a Database's pool), for the tests that hold
// a transaction open as a concurrent writer would: Exec("BEGIN"), statements, Exec("COMMIT").
// Closing it (the end of the object) ends what is still open as the database does on disconnect.
class Connection {
 public:
  // Connects to `url` (a database URL of product.md).
  static Result<std::unique_ptr<Connection>> Open(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Status Exec(const std::string& sql, const std::vector<SqlParam>& params = {});
  // As store::testing::InsertOutboxRow, in this connection's open transaction (or autocommit);
  // returns the seq it drew.
  Result<int64_t> InsertOutboxRow(const std::string& tenant, const std::string& type,
                                  const std::string& id, const std::string& kind,
                                  long long version = 1);

 private:
  struct Session;
  explicit Connection(std::unique_ptr<Session> session);

  std::unique_ptr<Session> session_;
};

}  // namespace scim::store::testing
