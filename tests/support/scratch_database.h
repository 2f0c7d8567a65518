#pragma once
// ScratchDatabase: a fresh, migrated database for one store test: a temporary SQLite file, or a
// new database on the test PostgreSQL cluster (SCIMD_TEST_PG_URL, see pg_configured.h) named
// after `tag`. Everything is dropped when it goes out of scope.

#include <soci/soci.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "scim/store/database.h"

namespace scim::testing {

class ScratchDatabase {
 public:
  ScratchDatabase(bool postgres, const std::string& tag) {
    static int counter = 0;
    const std::string suffix = std::to_string(::getpid()) + "_" + std::to_string(counter++);
    if (postgres) {
      admin_url_ = std::getenv("SCIMD_TEST_PG_URL");
      name_ = "scimd_" + tag + "_" + suffix;
      RunAdmin("CREATE DATABASE " + name_);
      url_ = admin_url_.substr(0, admin_url_.rfind('/') + 1) + name_;
    } else {
      path_ = (std::filesystem::temp_directory_path() / ("scimd-" + tag + "-" + suffix + ".db"))
                  .string();
      url_ = "sqlite:" + path_;
    }
    db = OpenPool();
    BOOST_TEST_REQUIRE(db->Migrate().ok());
  }
  ~ScratchDatabase() {
    db.reset();
    if (!name_.empty()) RunAdmin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  // Another pool on the same database: what another scimd process would have.
  std::shared_ptr<store::Database> OpenPool() const {
    auto opened = store::Database::Open(url_, 2);
    BOOST_TEST_REQUIRE(opened.ok(), "cannot open " << url_);
    return *opened;
  }

  // Runs one statement on `db`; the test fails if it does.
  void Exec(const std::string& sql) const {
    BOOST_TEST_REQUIRE(db->WithSession([&](soci::session& s) -> Status {
                           s << sql;
                           return OkStatus();
                         }).ok(),
                       sql);
  }

  const std::string& url() const { return url_; }

  std::shared_ptr<store::Database> db;

 private:
  void RunAdmin(const std::string& sql) const {
    auto admin = store::Database::Open(admin_url_, 1);
    BOOST_TEST_REQUIRE(admin.ok());
    BOOST_TEST((*admin)
                   ->WithSession([&](soci::session& s) -> Status {
                     s << sql;
                     return OkStatus();
                   })
                   .ok(),
               sql);
  }

  std::string admin_url_, name_, path_, url_;
};

}  // namespace scim::testing
