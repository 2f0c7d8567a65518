// store::TokenCache on SQLite and on PostgreSQL (when SCIMD_TEST_PG_URL names a server): repeated
// look-ups of a token stay in memory; a revocation or tenant disable made through another
// connection pool (as another scimd process would) is seen once the entry is max_age old; unknown
// hashes are never cached; the cache holds at most its capacity. Time is a fake clock.

#include "scim/store/token_cache.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>

#include "scim/auth/token.h"
#include "scim/store/tenant_store.h"
#include "scim/store/token_store.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

using std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

auth::TokenRecord Token(const std::string& name, const std::string& tenant) {
  auth::TokenRecord t;
  t.name = name;
  t.tenant = tenant;
  t.secret_hash = auth::HashTokenSecret("secret-of-" + name);
  t.scopes = {auth::Scope::kRead};
  t.created = "2026-12-01T00:00:00.000Z";
  return t;
}

// A clock the test moves by hand.
struct FakeClock {
  TimePoint now{};
  TokenCache::Clock Fn() {
    return [this] { return now; };
  }
};

void RepeatedLookUpsStayInMemory(ScratchDatabase& scratch) {
  auto tokens = std::make_shared<TokenStore>(scratch.db);
  BOOST_TEST_REQUIRE(tokens->Create(Token("ci", "default")).ok());
  FakeClock clock;
  TokenCache cache(tokens, milliseconds(500), 16, clock.Fn());
  std::string hash = auth::HashTokenSecret("secret-of-ci");
  for (int i = 0; i < 50; ++i) {
    auto found = cache.Find(hash);
    BOOST_TEST_REQUIRE(found.ok());
    BOOST_TEST_REQUIRE(found->has_value());
    BOOST_TEST((*found)->name == "ci");
    clock.now += milliseconds(9);  // 50 x 9 ms = 450 ms: still younger than max_age
  }
  BOOST_TEST(cache.DatabaseLookups() == 1u);
  clock.now += milliseconds(50);
  BOOST_TEST_REQUIRE(cache.Find(hash).ok());
  BOOST_TEST(cache.DatabaseLookups() == 2u);
  cache.Clear();
  BOOST_TEST_REQUIRE(cache.Find(hash).ok());
  BOOST_TEST(cache.DatabaseLookups() == 3u);
}

void OtherProcessChangesSeenAfterMaxAge(ScratchDatabase& scratch) {
  auto other = scratch.OpenPool();  // the other process
  BOOST_TEST_REQUIRE(TokenStore(other).Create(Token("revoked-there", "default")).ok());
  BOOST_TEST_REQUIRE(TenantStore(other).Create(Tenant{"acme", {}, {}, "2026-12-01"}).ok());
  BOOST_TEST_REQUIRE(TokenStore(other).Create(Token("of-acme", "acme")).ok());
  FakeClock clock;
  TokenCache cache(std::make_shared<TokenStore>(scratch.db), milliseconds(500), 16, clock.Fn());
  std::string revoked = auth::HashTokenSecret("secret-of-revoked-there");
  std::string acme = auth::HashTokenSecret("secret-of-of-acme");
  BOOST_TEST_REQUIRE(!(*cache.Find(revoked))->revoked.has_value());
  BOOST_TEST_REQUIRE(!(*cache.Find(acme))->tenant_disabled);

  BOOST_TEST_REQUIRE(TokenStore(other).Revoke("revoked-there", "2026-12-02T00:00:00.000Z").ok());
  BOOST_TEST_REQUIRE(TenantStore(other).Disable("acme", "2026-12-02T00:00:00.000Z").ok());
  clock.now += milliseconds(499);  // the bound: until max_age the cached record is served
  BOOST_TEST(!(*cache.Find(revoked))->revoked.has_value());
  BOOST_TEST(!(*cache.Find(acme))->tenant_disabled);
  clock.now += milliseconds(1);
  auto after = cache.Find(revoked);
  BOOST_TEST_REQUIRE(after.ok());
  BOOST_TEST_REQUIRE(after->has_value());
  BOOST_TEST((*after)->revoked.value_or("") == "2026-12-02T00:00:00.000Z");
  BOOST_TEST((*cache.Find(acme))->tenant_disabled);
}

void UnknownHashesAreNotCached(ScratchDatabase& scratch) {
  auto tokens = std::make_shared<TokenStore>(scratch.db);
  FakeClock clock;
  TokenCache cache(tokens, milliseconds(500), 16, clock.Fn());
  for (int i = 0; i < 20; ++i) {
    auto found = cache.Find(auth::HashTokenSecret("guess-" + std::to_string(i)));
    BOOST_TEST_REQUIRE(found.ok());
    BOOST_TEST(!found->has_value());
  }
  BOOST_TEST(cache.CachedTokens() == 0u);
  BOOST_TEST(cache.DatabaseLookups() == 20u);
  // A miss is not remembered: the token created right after it is found at once.
  std::string hash = auth::HashTokenSecret("secret-of-late");
  BOOST_TEST_REQUIRE(!cache.Find(hash)->has_value());
  BOOST_TEST_REQUIRE(tokens->Create(Token("late", "default")).ok());
  BOOST_TEST(cache.Find(hash)->has_value());
}

void CapacityBoundsMemory(ScratchDatabase& scratch) {
  auto tokens = std::make_shared<TokenStore>(scratch.db);
  FakeClock clock;
  TokenCache cache(tokens, milliseconds(500), 3, clock.Fn());
  for (int i = 0; i < 10; ++i) {
    std::string name = "t" + std::to_string(i);
    BOOST_TEST_REQUIRE(tokens->Create(Token(name, "default")).ok());
    auto found = cache.Find(auth::HashTokenSecret("secret-of-" + name));
    BOOST_TEST_REQUIRE(found.ok());
    BOOST_TEST_REQUIRE(found->has_value());
    BOOST_TEST((*found)->name == name);
    BOOST_TEST(cache.CachedTokens() <= 3u);
  }
  BOOST_TEST(cache.CachedTokens() >= 1u);
}

void RunAll(bool postgres) {
  {
    ScratchDatabase s(postgres, "token_cache");
    RepeatedLookUpsStayInMemory(s);
  }
  {
    ScratchDatabase s(postgres, "token_cache");
    OtherProcessChangesSeenAfterMaxAge(s);
  }
  {
    ScratchDatabase s(postgres, "token_cache");
    UnknownHashesAreNotCached(s);
  }
  {
    ScratchDatabase s(postgres, "token_cache");
    CapacityBoundsMemory(s);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(token_cache)

BOOST_AUTO_TEST_CASE(token_cache_on_sqlite) { RunAll(false); }

BOOST_AUTO_TEST_CASE(token_cache_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  RunAll(true);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::store
