// `scimd sync status` and `scimd sync retry` (product.md).

#include <iostream>

#include "app/commands.h"
#include "app/sync_text.h"
#include "scim/store/database.h"
#include "scim/store/delivery_status.h"

namespace scim::app {

int RunSyncStatus(const std::string& db_url) {
  auto db = store::Database::Open(db_url, 1);
  if (!db.ok()) return Fail(db.error().detail);
  Status migrated = (*db)->Migrate();
  if (!migrated.ok()) return Fail(migrated.error().detail);
  auto status = store::SyncStatus(**db, {});
  if (!status.ok()) return Fail(status.error().detail);
  std::cout << SyncStatusText(*status);
  return 0;
}

int RunSyncRetry(const std::string& db_url, const std::optional<std::string>& target) {
  auto db = store::Database::Open(db_url, 1);
  if (!db.ok()) return Fail(db.error().detail);
  Status migrated = (*db)->Migrate();
  if (!migrated.ok()) return Fail(migrated.error().detail);
  auto count = store::RetryFailed(**db, target);
  if (!count.ok()) return Fail(count.error().detail);
  AuditCli(**db, "*", "delivery.retry", "Delivery", target.value_or("*"),
           "[{\"attribute\":\"requeued\",\"old\":null,\"new\":" + std::to_string(*count) + "}]");
  std::cout << *count << " failed deliveries re-queued" << std::endl;
  return 0;
}

}  // namespace scim::app
