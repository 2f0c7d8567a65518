// The SQLite files scimd creates hold password and token hashes: mode 0600, -wal and -shm too.

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

#include "scim/store/database.h"

namespace scim::store {
namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "scimd-files-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Sets the process umask for one scope: 022 is the usual default, under which SQLite on its own
// creates world-readable files.
struct ScopedUmask {
  mode_t previous;
  explicit ScopedUmask(mode_t mask) : previous(::umask(mask)) {}
  ~ScopedUmask() { ::umask(previous); }
};

mode_t ModeOf(const std::filesystem::path& file) {
  struct stat st {};
  BOOST_REQUIRE_MESSAGE(::stat(file.c_str(), &st) == 0, file.string() + " does not exist");
  return st.st_mode & 0777;
}

BOOST_AUTO_TEST_SUITE(database_files)

BOOST_AUTO_TEST_CASE(sqlite_database_wal_and_shm_are_created_0600) {
  TempDir dir;
  ScopedUmask umask(022);
  std::filesystem::path db_file = dir.path / "scimd.db";
  auto db = Database::Open("sqlite:" + db_file.string(), 2);
  BOOST_REQUIRE(db.ok());
  BOOST_REQUIRE((*db)->Migrate().ok());  // writes, so the -wal and -shm files exist
  BOOST_TEST(ModeOf(db_file) == 0600u);
  BOOST_TEST(ModeOf(db_file.string() + "-wal") == 0600u);
  BOOST_TEST(ModeOf(db_file.string() + "-shm") == 0600u);
}

BOOST_AUTO_TEST_CASE(existing_sqlite_file_keeps_its_mode) {
  TempDir dir;
  std::filesystem::path db_file = dir.path / "scimd.db";
  auto first = Database::Open("sqlite:" + db_file.string(), 1);
  BOOST_REQUIRE(first.ok());
  first->reset();
  BOOST_REQUIRE(::chmod(db_file.c_str(), 0640) == 0);  // an operator's choice, e.g. for backups
  auto again = Database::Open("sqlite:" + db_file.string(), 1);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST((*again)->Ping().ok());
  BOOST_TEST(ModeOf(db_file) == 0640u);
}

BOOST_AUTO_TEST_CASE(uncreatable_sqlite_file_is_unavailable) {
  auto db = Database::Open("sqlite:/nonexistent-dir-scimd/scimd.db", 1);
  BOOST_REQUIRE(!db.ok());
  BOOST_TEST((db.error().code == ErrorCode::kUnavailable));
  BOOST_TEST(db.error().detail.find("/nonexistent-dir-scimd/scimd.db") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
