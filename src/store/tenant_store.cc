#include "scim/store/tenant_store.h"

#include <soci/soci.h>

namespace scim::store {
namespace {

Tenant FromRow(const soci::row& r) {
  Tenant t;
  t.name = r.get<std::string>(0);
  if (r.get_indicator(1) == soci::i_ok) t.display_name = r.get<std::string>(1);
  if (r.get_indicator(2) == soci::i_ok) t.disabled = r.get<std::string>(2);
  t.created = r.get<std::string>(3);
  return t;
}

constexpr const char* kColumns = "name, display_name, disabled, created";

}  // namespace

bool ValidTenantName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

TenantStore::TenantStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

Status TenantStore::Create(const Tenant& tenant) {
  if (!ValidTenantName(tenant.name)) {
    return Error(ErrorCode::kInvalidValue,
                 "a tenant name is 1 to 64 characters of letters, digits, '.', '_' and '-'");
  }
  return db_->WithSession([&](soci::session& s) -> Status {
    std::string display = tenant.display_name.value_or("");
    soci::indicator display_ind = tenant.display_name ? soci::i_ok : soci::i_null;
    s << "INSERT INTO tenants (name, display_name, created) VALUES (:n, :d, :c)",
        soci::use(tenant.name, "n"), soci::use(display, display_ind, "d"),
        soci::use(tenant.created, "c");
    return OkStatus();
  });
}

Result<bool> TenantStore::EnsureExists(const std::string& name, const std::string& now) {
  if (!ValidTenantName(name)) {
    return Error(ErrorCode::kInvalidValue,
                 "a tenant name is 1 to 64 characters of letters, digits, '.', '_' and '-'");
  }
  bool created = false;
  Status st = db_->InTransaction([&](soci::session& s) -> Status {
    long long n = 0;
    s << "SELECT COUNT(*) FROM tenants WHERE name = :n", soci::use(name), soci::into(n);
    if (n > 0) return OkStatus();
    s << "INSERT INTO tenants (name, created) VALUES (:n, :c)", soci::use(name, "n"),
        soci::use(now, "c");
    created = true;
    return OkStatus();
  });
  if (!st.ok()) {
    // Another process created it in between.
    if (st.error().code == ErrorCode::kUniqueness) return false;
    return st.error();
  }
  return created;
}

Result<std::vector<Tenant>> TenantStore::List() {
  std::vector<Tenant> out;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    out.clear();
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT " << kColumns << " FROM tenants ORDER BY name");
    for (const soci::row& r : rows) out.push_back(FromRow(r));
    return OkStatus();
  }));
  return out;
}

Result<std::optional<Tenant>> TenantStore::Find(const std::string& name) {
  std::optional<Tenant> found;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT " << kColumns << " FROM tenants WHERE name = :n", soci::use(name));
    for (const soci::row& r : rows) found = FromRow(r);
    return OkStatus();
  }));
  return found;
}

Status TenantStore::Disable(const std::string& name, const std::string& now) {
  return db_->WithSession([&](soci::session& s) -> Status {
    soci::statement st = (s.prepare << "UPDATE tenants SET disabled = :d WHERE name = :n "
                                       "AND disabled IS NULL",
                          soci::use(now, "d"), soci::use(name, "n"));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      long long n = 0;
      s << "SELECT COUNT(*) FROM tenants WHERE name = :n", soci::use(name), soci::into(n);
      if (n == 0) return Error(ErrorCode::kNotFound, "no tenant named '" + name + "'");
    }
    return OkStatus();
  });
}

Result<TenantSummary> TenantStore::Summary(const std::string& name) {
  SCIM_TRY(auto tenant, Find(name));
  if (!tenant.has_value()) return Error(ErrorCode::kNotFound, "no tenant named '" + name + "'");
  TenantSummary summary;
  summary.tenant = *tenant;
  SCIM_RETURN_IF_ERROR(db_->WithSession([&](soci::session& s) -> Status {
    s << "SELECT COUNT(*) FROM resources WHERE tenant = :t AND resource_type = 'User'",
        soci::use(name), soci::into(summary.users);
    s << "SELECT COUNT(*) FROM resources WHERE tenant = :t AND resource_type = 'User' "
         "AND active = 1",
        soci::use(name), soci::into(summary.active_users);
    s << "SELECT COUNT(*) FROM resources WHERE tenant = :t AND resource_type = 'Group'",
        soci::use(name), soci::into(summary.groups);
    s << "SELECT COUNT(*) FROM deliveries WHERE tenant = :t AND status = 'failed'", soci::use(name),
        soci::into(summary.failed_deliveries);
    s << "SELECT COUNT(*) FROM deliveries WHERE tenant = :t "
         "AND status IN ('pending', 'in_flight')",
        soci::use(name), soci::into(summary.pending_deliveries);
    std::string updated, status;
    s << "SELECT updated, status FROM deliveries WHERE tenant = :t "
         "AND status IN ('delivered', 'failed') ORDER BY id DESC LIMIT 1",
        soci::use(name), soci::into(updated), soci::into(status);
    if (s.got_data()) {
      summary.last_sync = updated;
      summary.last_sync_status = status;
    }
    return OkStatus();
  }));
  return summary;
}

}  // namespace scim::store
