// `scimd tenant create|list|disable` and `scimd sync resource` (product.md), and the actor the
// CLI's audit entries carry.

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app/commands.h"
#include "scim/common/clock.h"
#include "scim/store/audit_log.h"
#include "scim/store/database.h"
#include "scim/store/tenant_store.h"

namespace scim::app {
namespace {

Result<std::shared_ptr<store::Database>> Open(const std::string& url) {
  SCIM_TRY(auto db, store::Database::Open(url, 1));
  SCIM_RETURN_IF_ERROR(db->Migrate());
  return db;
}

}  // namespace

std::string CliActor() {
  std::string user;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    user = pw->pw_name;
  } else if (const char* env = std::getenv("USER"); env != nullptr) {
    user = env;
  } else {
    user = "uid" + std::to_string(geteuid());
  }
  return "cli:" + user;
}

void AuditCli(store::Database& db, const std::string& tenant, const std::string& action,
              const std::string& resource_type, const std::string& resource_id,
              const std::string& changes) {
  store::AuditRecord record;
  record.tenant = tenant;
  record.actor = CliActor();
  record.client = "cli";
  record.action = action;
  record.resource_type = resource_type;
  record.resource_id = resource_id;
  record.changes = changes;
  Status st = store::RecordAudit(db, record);
  if (!st.ok())
    std::cerr << "scimd: warning: audit entry not written: " << st.error().detail << "\n";
}

int RunTenantCreate(const TenantCommand& command) {
  auto db = Open(command.db);
  if (!db.ok()) return Fail(db.error().detail);
  store::Tenant tenant;
  tenant.name = command.name;
  tenant.display_name = command.display_name;
  tenant.created = NowTimestamp();
  Status created = store::TenantStore(*db).Create(tenant);
  if (!created.ok()) {
    return Fail(created.error().code == ErrorCode::kUniqueness
                    ? "a tenant named '" + command.name + "' already exists"
                    : created.error().detail);
  }
  AuditCli(**db, command.name, "tenant.create", "Tenant", command.name,
           command.display_name ? "[{\"attribute\":\"display_name\",\"old\":null,\"new\":" +
                                      JsonQuote(*command.display_name) + "}]"
                                : "");
  std::cout << "tenant '" << command.name << "' created" << std::endl;
  return 0;
}

int RunTenantList(const std::string& db_url) {
  auto db = Open(db_url);
  if (!db.ok()) return Fail(db.error().detail);
  auto tenants = store::TenantStore(*db).List();
  if (!tenants.ok()) return Fail(tenants.error().detail);
  for (const store::Tenant& t : *tenants) {
    std::cout << t.name << "\tdisplay_name=" << t.display_name.value_or("-")
              << "\tcreated=" << t.created
              << "\tstatus=" << (t.disabled ? "disabled since " + *t.disabled : "enabled")
              << std::endl;
  }
  return 0;
}

int RunTenantDisable(const TenantCommand& command) {
  auto db = Open(command.db);
  if (!db.ok()) return Fail(db.error().detail);
  Status disabled = store::TenantStore(*db).Disable(command.name, NowTimestamp());
  if (!disabled.ok()) return Fail(disabled.error().detail);
  AuditCli(**db, command.name, "tenant.disable", "Tenant", command.name,
           "[{\"attribute\":\"disabled\",\"old\":false,\"new\":true}]");
  std::cout << "tenant '" << command.name << "' disabled; its tokens no longer authenticate"
            << std::endl;
  return 0;
}

int RunSyncResource(const SyncResourceCommand& command) {
  auto db = Open(command.db);
  if (!db.ok()) return Fail(db.error().detail);
  store::AuditRecord who;
  who.actor = CliActor();
  who.client = "cli";
  auto synced = store::RecordManualSync(**db, command.tenant, command.id, command.target, who);
  if (!synced.ok()) return Fail(synced.error().detail);
  std::cout << synced->resource_type << " " << synced->resource_id << " (tenant " << synced->tenant
            << ", version " << synced->version << ") queued for "
            << (command.target ? "target " + *command.target : std::string("every target"))
            << std::endl;
  return 0;
}

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace scim::app
