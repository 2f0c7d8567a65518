#include "scim/store/delivery_store.h"

#include <charconv>
#include <chrono>

#include "store/delivery_sql.h"

namespace scim::store {
namespace delivery_sql {
namespace {

constexpr size_t kMaxErrorLength = 2000;

}  // namespace

std::string Truncate(std::string s) {
  if (s.size() > kMaxErrorLength) {
    s.resize(kMaxErrorLength);
    s += "...";
  }
  return s;
}

std::string IdArray(Dialect dialect, const std::vector<int64_t>& ids) {
  return (dialect == Dialect::kPostgres ? "{" : "[") + IdList(ids) +
         (dialect == Dialect::kPostgres ? "}" : "]");
}

std::string InIds(Dialect dialect, int k) {
  const std::string p = "$" + std::to_string(k);
  return dialect == Dialect::kPostgres ? "= ANY(" + p + "::bigint[])"
                                       : "IN (SELECT value FROM json_each(" + p + "))";
}

std::string PgArray(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out.push_back('"');
    for (char c : *values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out + "}";
}

long long IntOf(const std::optional<std::string>& cell) {
  if (!cell) return 0;
  long long value = 0;
  std::from_chars(cell->data(), cell->data() + cell->size(), value);
  return value;
}

std::string IdList(const std::vector<int64_t>& ids) {
  std::string out;
  for (int64_t id : ids) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(id);
  }
  return out;
}

}  // namespace delivery_sql

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DeliveryStore::DeliveryStore(Database& db) : db_(db) {}

Status DeliveryStore::InBookkeeping(const std::function<Status(soci::session&)>& work) {
  return db_.InTransaction(work, Database::CommitWait::kReplayable);
}

}  // namespace scim::store
