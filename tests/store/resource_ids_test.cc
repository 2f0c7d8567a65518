// New resource ids are UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version 7, variant
// 0b10, the rest random. Ids of later milliseconds sort after earlier ones, in C++ and in each
// database's order of the id column, so a push of new resources appends to the primary key
// instead of landing on a random page (issue 11). Ordering within one millisecond is not
// promised. On SQLite, and on PostgreSQL when SCIMD_TEST_PG_URL names a server.

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "scim/store/resource_store.h"
#include "store/sql_util.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

// The 48-bit timestamp of a UUIDv7 text (its first 12 hex digits).
uint64_t MillisOf(const std::string& id) {
  return std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
}

uint64_t NowMillis() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

const std::regex kV7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

BOOST_AUTO_TEST_SUITE(resource_ids)

BOOST_AUTO_TEST_CASE(layout_of_a_uuid_v7) {
  const unsigned char ones[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const unsigned char zeros[10] = {};
  const unsigned char mixed[10] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22};
  // Version nibble 7 (byte 6 high), variant bits 10 (byte 8 high two), the rest as given.
  BOOST_TEST(FormatUuidV7(0x0123456789abULL, ones) == "01234567-89ab-7fff-bfff-ffffffffffff");
  BOOST_TEST(FormatUuidV7(0x0123456789abULL, zeros) == "01234567-89ab-7000-8000-000000000000");
  BOOST_TEST(FormatUuidV7(0x0123456789abULL, mixed) == "01234567-89ab-7234-9678-9abcdef01122");
  // Only the low 48 bits of the time are kept.
  BOOST_TEST(FormatUuidV7(0xffff000000000001ULL, zeros) == "00000000-0001-7000-8000-000000000000");
  // The RFC 9562 Appendix A.6 example: 2022-02-22 19:22:22 UTC = 0x017F22E279B0 ms.
  const unsigned char example[10] = {0xcc, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f};
  BOOST_TEST(FormatUuidV7(0x017F22E279B0ULL, example) == "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
}

BOOST_AUTO_TEST_CASE(generated_ids_carry_the_time_and_sort_across_milliseconds) {
  uint64_t before = NowMillis();
  std::string first = GenerateId();
  uint64_t after = NowMillis();
  BOOST_TEST(std::regex_match(first, kV7), first);
  BOOST_TEST(MillisOf(first) >= before);
  BOOST_TEST(MillisOf(first) <= after);
  std::set<std::string> seen{first};
  std::string previous = first;
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::string next = GenerateId();
    BOOST_TEST(std::regex_match(next, kV7), next);
    BOOST_TEST(previous < next, previous << " then " << next);
    seen.insert(next);
    previous = next;
  }
  // Within one millisecond the 74 random bits keep them apart.
  for (int i = 0; i < 10000; ++i) seen.insert(GenerateId());
  BOOST_TEST(seen.size() == 10006u);
}

// Resources created a few milliseconds apart come back in creation order when the database
// orders them by id (the order of its primary key), on both databases.
void CreatedInIdOrder(bool postgres) {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ScratchDatabase scratch(postgres, "ids");
  ResourceStore store(scratch.db, *registry);
  std::vector<std::string> created;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    json::Document doc;
    std::string body =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ordered" +
        std::to_string(i) + "\"}";
    BOOST_TEST_REQUIRE(json::Parse(body, doc).ok());
    auto user = store.Create({"default", "tester"}, "User", std::move(doc), {}, std::nullopt);
    BOOST_TEST_REQUIRE(user.ok());
    std::string id = (*user)["id"].GetString();
    BOOST_TEST(std::regex_match(id, kV7), id);
    created.push_back(id);
  }
  std::vector<std::string> ordered;
  BOOST_TEST_REQUIRE(scratch.db
                         ->WithSession([&](soci::session& s) -> Status {
                           soci::rowset<std::string> rows =
                               (s.prepare << "SELECT id FROM resources WHERE tenant = 'default' "
                                             "ORDER BY id");
                           for (const std::string& id : rows) ordered.push_back(id);
                           return OkStatus();
                         })
                         .ok());
  BOOST_TEST(ordered == created, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(created_in_id_order_on_sqlite) { CreatedInIdOrder(false); }

BOOST_AUTO_TEST_CASE(created_in_id_order_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  CreatedInIdOrder(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
