#pragma once
// Tenants as records (table tenants, migration 006): the boundary of every SCIM and admin request.
// A disabled tenant's tokens no longer authenticate. Also the per-tenant counts the admin API shows
// (users, active users, groups, the last finished delivery).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store {

struct Tenant {
  std::string name;
  std::optional<std::string> display_name;
  std::optional<std::string> disabled;  // when it was disabled; nullopt: enabled
  std::string created;
};

// `GET /admin/v1/tenant`: a tenant with its counts.
struct TenantSummary {
  Tenant tenant;
  long long users = 0;
  long long active_users = 0;
  long long groups = 0;
  std::optional<std::string> last_sync;         // when its latest finished delivery finished
  std::optional<std::string> last_sync_status;  // "delivered" | "failed"
  long long failed_deliveries = 0;
  long long pending_deliveries = 0;
};

class TenantStore {
 public:
  explicit TenantStore(std::shared_ptr<Database> db);

  // kUniqueness when the name is taken; kInvalidValue for an empty or over-long name.
  Status Create(const Tenant& tenant);
  // Creates `name` (enabled, no display name) unless it exists; true when it was created.
  Result<bool> EnsureExists(const std::string& name, const std::string& now);
  Result<std::vector<Tenant>> List();
  Result<std::optional<Tenant>> Find(const std::string& name);
  // Marks it disabled at `now`; kNotFound when there is no such tenant.
  Status Disable(const std::string& name, const std::string& now);
  // kNotFound when there is no such tenant.
  Result<TenantSummary> Summary(const std::string& name);

 private:
  std::shared_ptr<Database> db_;
};

// A valid tenant name: 1..64 characters of [A-Za-z0-9._-].
bool ValidTenantName(const std::string& name);

}  // namespace scim::store
