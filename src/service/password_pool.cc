#include "service/password_pool.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "scim/auth/password.h"

namespace scim::service {
namespace {

constexpr int kHashingNiceness = 10;

// Lowers the calling thread's priority (Linux: nice is per thread).
void LowerPriority() {
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kHashingNiceness);
}

}  // namespace

PasswordHashes HashPasswords(const std::vector<std::string>& plains) {
  std::vector<std::string> distinct(plains);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<Result<std::string>> hashes(distinct.size(), Error(ErrorCode::kInternal, "unset"));
  std::atomic<size_t> next{0};
  auto work = [&] {
    LowerPriority();
    for (size_t i = next++; i < distinct.size(); i = next++) {
      hashes[i] = auth::HashPassword(distinct[i]);
    }
  };
  size_t threads =
      std::min<size_t>(distinct.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& thread : pool) thread.join();
  PasswordHashes out;
  for (size_t i = 0; i < distinct.size(); ++i) {
    if (hashes[i].ok()) out.emplace(distinct[i], *hashes[i]);
  }
  return out;
}

}  // namespace scim::service
