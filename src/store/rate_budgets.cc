#include "scim/store/rate_budgets.h"

#include <soci/soci.h>

#include <algorithm>
#include <chrono>

namespace scim::store {
namespace {

long long NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

RateBudgets::RateBudgets(std::shared_ptr<Database> db) : db_(std::move(db)) {}

Result<BudgetGrant> RateBudgets::Take(const std::string& key, double capacity, double per_second,
                                      double at_least, double want) {
  BudgetGrant grant;
  SCIM_RETURN_IF_ERROR(db_->InTransaction([&](soci::session& s) -> Status {
    long long now = NowMillis();
    // A new key starts full; the row is then locked (PostgreSQL: FOR UPDATE; SQLite: the
    // transaction is already the only writer) while it is read and written back.
    s << "INSERT INTO rate_budgets (key, tokens, updated_ms) VALUES (:k, :c, :n) "
         "ON CONFLICT (key) DO NOTHING",
        soci::use(key, "k"), soci::use(capacity, "c"), soci::use(now, "n");
    double tokens = 0;
    long long updated = now;
    std::string select = "SELECT tokens, updated_ms FROM rate_budgets WHERE key = :k";
    if (db_->dialect() == Dialect::kPostgres) select += " FOR UPDATE";
    s << select, soci::use(key, "k"), soci::into(tokens), soci::into(updated);
    double elapsed = std::max(0LL, now - updated) / 1000.0;
    tokens = std::min(capacity, tokens + elapsed * per_second);
    double needed = std::min(at_least, capacity);
    if (tokens >= needed) {
      grant.granted = std::max(needed, std::min(want, tokens));
      tokens -= grant.granted;
    } else {
      grant.wait_seconds = (needed - tokens) / per_second;
    }
    s << "UPDATE rate_budgets SET tokens = :t, updated_ms = :n WHERE key = :k",
        soci::use(tokens, "t"), soci::use(now, "n"), soci::use(key, "k");
    return OkStatus();
  }));
  return grant;
}

}  // namespace scim::store
