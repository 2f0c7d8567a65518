#include "scim/store/delivery_store.h"

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
