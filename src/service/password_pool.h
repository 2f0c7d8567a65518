#pragma once
// Password hashing off the request threads (issue 11): PBKDF2 costs ~100 ms of CPU per password,
// so a /Bulk of 1,000 users with passwords is minutes of CPU. HashPasswords spreads the work over
// one thread per core, each at a lower scheduling priority (nice 10), so requests that need the
// CPU now (reads, other tenants' writes) still get it, and it runs before any transaction opens,
// so no write lock is held while hashing.

#include <string>
#include <vector>

#include "scim/service/resource_service.h"

namespace scim::service {

// Hashes each distinct password of `plains` (auth::HashPassword). A password that cannot be
// hashed (longer than auth::kMaxPasswordBytes) is left out: its write hashes it again and fails.
PasswordHashes HashPasswords(const std::vector<std::string>& plains);

}  // namespace scim::service
