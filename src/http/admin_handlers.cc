#include "http/admin_handlers.h"

#include <charconv>
#include <chrono>

#include "http/error_response.h"
#include "http/sync_rendering.h"
#include "scim/auth/token.h"
#include "scim/common/clock.h"
#include "scim/common/json.h"
#include "scim/store/tenant_store.h"

namespace scim::http {
namespace {

HttpResponse AdminJson(std::string body, int status = 200) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

json::Value OptionalString(const std::optional<std::string>& s, json::Allocator& alloc) {
  return s ? json::String(*s, alloc) : json::Value();
}

// The stored changes (a JSON array) as a value; an empty array when absent or unreadable.
json::Value ChangesValue(const std::optional<std::string>& text, json::Allocator& alloc) {
  json::Document doc;
  if (!text || !json::Parse(*text, doc).ok() || !doc.IsArray()) {
    return json::Value(rapidjson::kArrayType);
  }
  return json::Value(doc, alloc);
}

std::string AuditJson(const std::vector<store::AuditEntry>& entries,
                      const std::optional<long long>& next_cursor) {
  json::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const auto& e : entries) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("id", static_cast<int64_t>(e.seq), alloc);
    item.AddMember("time", json::String(e.time, alloc), alloc);
    item.AddMember("tenant", json::String(e.tenant, alloc), alloc);
    item.AddMember("actor", json::String(e.actor, alloc), alloc);
    item.AddMember("client", OptionalString(e.client, alloc), alloc);
    item.AddMember("request_id", OptionalString(e.request_id, alloc), alloc);
    item.AddMember("action", json::String(e.action, alloc), alloc);
    item.AddMember("resource_type", json::String(e.resource_type, alloc), alloc);
    item.AddMember("resource_id", json::String(e.resource_id, alloc), alloc);
    item.AddMember("version", static_cast<int64_t>(e.version), alloc);
    item.AddMember("changes", ChangesValue(e.changes, alloc), alloc);
    list.PushBack(item, alloc);
  }
  doc.AddMember("entries", list, alloc);
  doc.AddMember("next_cursor",
                next_cursor ? json::String(std::to_string(*next_cursor), alloc) : json::Value(),
                alloc);
  return json::Serialize(doc);
}

std::optional<int> ParseInt(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

json::Value ScopesValue(const std::set<auth::Scope>& scopes, json::Allocator& alloc) {
  json::Value list(rapidjson::kArrayType);
  for (auth::Scope scope : scopes)
    list.PushBack(json::String(auth::ScopeName(scope), alloc), alloc);
  return list;
}

json::Value SummaryValue(const store::TenantSummary& t, json::Allocator& alloc) {
  json::Value item(rapidjson::kObjectType);
  item.AddMember("name", json::String(t.tenant.name, alloc), alloc);
  item.AddMember("display_name", OptionalString(t.tenant.display_name, alloc), alloc);
  item.AddMember("disabled", t.tenant.disabled.has_value(), alloc);
  item.AddMember("disabled_at", OptionalString(t.tenant.disabled, alloc), alloc);
  item.AddMember("created", json::String(t.tenant.created, alloc), alloc);
  item.AddMember("users", static_cast<int64_t>(t.users), alloc);
  item.AddMember("active_users", static_cast<int64_t>(t.active_users), alloc);
  item.AddMember("groups", static_cast<int64_t>(t.groups), alloc);
  item.AddMember("pending_deliveries", static_cast<int64_t>(t.pending_deliveries), alloc);
  item.AddMember("failed_deliveries", static_cast<int64_t>(t.failed_deliveries), alloc);
  item.AddMember("last_sync", OptionalString(t.last_sync, alloc), alloc);
  item.AddMember("last_sync_status", OptionalString(t.last_sync_status, alloc), alloc);
  return item;
}

bool ValidTokenName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

json::Value TokenValue(const auth::TokenRecord& t, const std::string& now, json::Allocator& alloc) {
  json::Value item(rapidjson::kObjectType);
  item.AddMember("name", json::String(t.name, alloc), alloc);
  item.AddMember("tenant", json::String(t.tenant, alloc), alloc);
  item.AddMember("scopes", ScopesValue(t.scopes, alloc), alloc);
  item.AddMember("created", json::String(t.created, alloc), alloc);
  item.AddMember("expires", OptionalString(t.expires, alloc), alloc);
  item.AddMember("revoked", OptionalString(t.revoked, alloc), alloc);
  item.AddMember("last_used", OptionalString(t.last_used, alloc), alloc);
  item.AddMember("request_count", static_cast<int64_t>(t.request_count), alloc);
  const char* status = t.revoked ? "revoked" : (auth::TokenUsable(t, now) ? "active" : "expired");
  item.AddMember("status", json::Value(status, alloc), alloc);
  return item;
}

}  // namespace

Result<std::optional<std::string>> AdminTenant(const HttpRequest& req, const Caller& caller) {
  auto asked = req.Query("tenant");
  if (caller.IsOperator()) {
    if (asked && !asked->empty()) return std::optional<std::string>(*asked);
    return std::optional<std::string>();
  }
  if (asked && *asked != caller.tenant) {
    return Error(ErrorCode::kForbidden, "only the operator scope may choose a tenant");
  }
  return std::optional<std::string>(caller.tenant);
}

AdminHandlers::AdminHandlers(std::shared_ptr<store::Database> db,
                             std::vector<store::TargetRef> targets,
                             std::shared_ptr<store::TokenStore> tokens, const Authenticator* auth)
    : db_(std::move(db)), targets_(std::move(targets)), tokens_(std::move(tokens)), auth_(auth) {}

store::AuditRecord AdminHandlers::AuditOf(const HttpRequest& req, const Caller& caller,
                                          const std::string& tenant) const {
  store::AuditRecord record;
  record.tenant = tenant;
  record.actor = caller.actor;
  record.client = req.client_address;
  record.request_id = req.request_id;
  return record;
}

HttpResponse AdminHandlers::SyncStatus(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  auto status = store::SyncStatus(*db_, targets_, *tenant);
  if (!status.ok()) return ErrorResponse(status.error());
  return AdminJson(SyncStatusJson(*status));
}

HttpResponse AdminHandlers::Deliveries(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  int limit = 100;
  if (auto text = req.Query("limit")) {
    auto parsed = ParseInt(*text);
    if (!parsed) return ErrorResponse(ErrorCode::kInvalidValue, "limit must be an integer");
    limit = *parsed;
  }
  auto rows = store::ListDeliveries(*db_, req.Query("status"), req.Query("target"), limit, *tenant,
                                    req.Query("resource"));
  if (!rows.ok()) return ErrorResponse(rows.error());
  return AdminJson(DeliveriesJson(*rows));
}

HttpResponse AdminHandlers::RetryDelivery(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  const std::string& text = req.params.at("id");
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return ErrorResponse(ErrorCode::kNotFound, "no delivery " + text);
  }
  store::DeliveryRow row;
  Status retried = store::RetryDelivery(*db_, id, *tenant, &row);
  if (!retried.ok()) return ErrorResponse(retried.error());
  store::AuditRecord audit = AuditOf(req, caller, row.tenant);
  audit.action = "delivery.retry";
  audit.resource_type = row.resource_type;
  audit.resource_id = row.resource_id;
  audit.changes =
      "[{\"attribute\":\"delivery\",\"old\":\"failed\",\"new\":\"pending\"},"
      "{\"attribute\":\"target\",\"old\":null,\"new\":" +
      json::Serialize(
          json::Value(row.target.c_str(), static_cast<rapidjson::SizeType>(row.target.size()))) +
      "},{\"attribute\":\"delivery_id\",\"old\":null,\"new\":" + std::to_string(id) + "}]";
  (void)store::RecordAudit(*db_, audit);
  return AdminJson("{\"id\":" + std::to_string(id) + ",\"status\":\"pending\"}");
}

HttpResponse AdminHandlers::Links(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  auto resource = req.Query("resource");
  if (!resource || resource->empty()) {
    return ErrorResponse(ErrorCode::kInvalidValue, "the resource parameter is required");
  }
  auto links = *tenant ? store::LinksOf(*db_, **tenant, *resource)
                       : store::LinksOfAnyTenant(*db_, *resource);
  if (!links.ok()) return ErrorResponse(links.error());
  return AdminJson(LinksJson(*links));
}

HttpResponse AdminHandlers::Audit(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  store::AuditQuery query;
  query.tenant = *tenant;
  query.newest_first = true;
  query.limit = 100;
  for (const char* bound : {"since", "until"}) {
    if (auto text = req.Query(bound)) {
      auto normal = NormalizeTimestamp(*text);
      if (!normal) {
        return ErrorResponse(ErrorCode::kInvalidValue, std::string(bound) + " must be a dateTime");
      }
      (std::string(bound) == "since" ? query.since : query.until) = normal;
    }
  }
  query.resource_id = req.Query("resource");
  query.actor = req.Query("actor");
  query.action = req.Query("action");
  if (auto text = req.Query("limit")) {
    auto parsed = ParseInt(*text);
    if (!parsed || *parsed < 1) {
      return ErrorResponse(ErrorCode::kInvalidValue, "limit must be a positive integer");
    }
    query.limit = std::min(*parsed, 1000);
  }
  if (auto text = req.Query("cursor"); text && !text->empty()) {
    long long cursor = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), cursor);
    if (ec != std::errc() || end != text->data() + text->size() || cursor < 1) {
      return ErrorResponse(ErrorCode::kInvalidValue, "cursor is not one this server gave");
    }
    query.before_seq = cursor;
  }
  // One more than the page tells whether there is a next page.
  int page = query.limit;
  query.limit = page + 1;
  auto entries = store::ReadAuditLog(*db_, query);
  if (!entries.ok()) return ErrorResponse(entries.error());
  std::optional<long long> next;
  if (static_cast<int>(entries->size()) > page) {
    entries->resize(page);
    next = entries->back().seq;
  }
  return AdminJson(AuditJson(*entries, next));
}

HttpResponse AdminHandlers::SyncResource(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  auto target = req.Query("target");
  if (target) {
    bool known = false;
    for (const store::TargetRef& t : targets_) known = known || t.name == *target;
    if (!known) return ErrorResponse(ErrorCode::kNotFound, "no target named '" + *target + "'");
  }
  store::AuditRecord who = AuditOf(req, caller, tenant->value_or(""));
  auto synced = store::RecordManualSync(*db_, *tenant, req.params.at("id"), target, who);
  if (!synced.ok()) return ErrorResponse(synced.error());
  json::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  doc.AddMember("tenant", json::String(synced->tenant, alloc), alloc);
  doc.AddMember("resource_type", json::String(synced->resource_type, alloc), alloc);
  doc.AddMember("resource_id", json::String(synced->resource_id, alloc), alloc);
  doc.AddMember("version", static_cast<int64_t>(synced->version), alloc);
  doc.AddMember("target", OptionalString(target, alloc), alloc);
  doc.AddMember("status", "queued", alloc);
  return AdminJson(json::Serialize(doc), 202);
}

HttpResponse AdminHandlers::Tenant(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  auto summary = store::TenantStore(db_).Summary(tenant->value_or(caller.tenant));
  if (!summary.ok()) return ErrorResponse(summary.error());
  json::Document doc(rapidjson::kObjectType);
  return AdminJson(json::Serialize(SummaryValue(*summary, doc.GetAllocator())));
}

HttpResponse AdminHandlers::Tenants(const HttpRequest&, const Caller& caller) const {
  if (!caller.IsOperator()) {
    return ErrorResponse(ErrorCode::kForbidden, "listing tenants needs the operator scope");
  }
  store::TenantStore tenants(db_);
  auto all = tenants.List();
  if (!all.ok()) return ErrorResponse(all.error());
  json::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const store::Tenant& t : *all) {
    auto summary = tenants.Summary(t.name);
    if (!summary.ok()) return ErrorResponse(summary.error());
    list.PushBack(SummaryValue(*summary, alloc), alloc);
  }
  doc.AddMember("tenants", list, alloc);
  return AdminJson(json::Serialize(doc));
}

HttpResponse AdminHandlers::CreateToken(const HttpRequest& req, const Caller& caller) const {
  json::Document body;
  if (!json::Parse(req.body, body).ok() || !body.IsObject()) {
    return ErrorResponse(ErrorCode::kInvalidSyntax, "the body must be a JSON object");
  }
  auto name_it = body.FindMember("name");
  if (name_it == body.MemberEnd() || !name_it->value.IsString() ||
      !ValidTokenName(name_it->value.GetString())) {
    return ErrorResponse(ErrorCode::kInvalidValue,
                         "name is required: 1 to 64 letters, digits, '.', '_' or '-'");
  }
  std::string scopes_text = std::string(auth::kDefaultScopes);
  if (auto it = body.FindMember("scopes"); it != body.MemberEnd()) {
    if (it->value.IsString()) {
      scopes_text = it->value.GetString();
    } else if (it->value.IsArray()) {
      scopes_text.clear();
      for (const auto& v : it->value.GetArray()) {
        if (!v.IsString()) return ErrorResponse(ErrorCode::kInvalidValue, "scopes are strings");
        if (!scopes_text.empty()) scopes_text += ",";
        scopes_text += v.GetString();
      }
    } else {
      return ErrorResponse(ErrorCode::kInvalidValue, "scopes must be an array of strings");
    }
  }
  auto scopes = auth::ParseScopes(scopes_text);
  if (!scopes.ok()) return ErrorResponse(scopes.error());
  if (scopes->empty()) return ErrorResponse(ErrorCode::kInvalidValue, "at least one scope");
  if (scopes->count(auth::Scope::kOperator) > 0) {
    return ErrorResponse(ErrorCode::kForbidden,
                         "the operator scope is granted only by `scimd token create`");
  }
  std::optional<std::string> expires;
  if (auto it = body.FindMember("expires_in_days"); it != body.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsInt() || it->value.GetInt() < 1 || it->value.GetInt() > 3650) {
      return ErrorResponse(ErrorCode::kInvalidValue,
                           "expires_in_days must be an integer from 1 to 3650");
    }
    expires = FormatTimestamp(std::chrono::system_clock::now() +
                              std::chrono::hours(24) * it->value.GetInt());
  }
  // The tenant: the caller's; the operator may name one (in the body or ?tenant=).
  std::string tenant = caller.tenant;
  if (caller.IsOperator()) {
    if (auto it = body.FindMember("tenant"); it != body.MemberEnd() && it->value.IsString()) {
      tenant = it->value.GetString();
    } else if (auto q = req.Query("tenant"); q && !q->empty()) {
      tenant = *q;
    }
    auto known = store::TenantStore(db_).Find(tenant);
    if (!known.ok()) return ErrorResponse(known.error());
    if (!known->has_value())
      return ErrorResponse(ErrorCode::kNotFound, "no tenant '" + tenant + "'");
  } else if (auto it = body.FindMember("tenant");
             it != body.MemberEnd() && (!it->value.IsString() || it->value.GetString() != tenant)) {
    return ErrorResponse(ErrorCode::kForbidden, "only the operator scope may choose a tenant");
  }
  auto secret = auth::GenerateTokenSecret();
  if (!secret.ok()) return ErrorResponse(secret.error());
  auth::TokenRecord record;
  record.name = name_it->value.GetString();
  record.tenant = tenant;
  record.secret_hash = auth::HashTokenSecret(*secret);
  record.scopes = *scopes;
  record.created = NowTimestamp();
  record.expires = expires;
  Status created = tokens_->Create(record);
  if (!created.ok()) {
    if (created.error().code == ErrorCode::kUniqueness) {
      return ErrorResponse(ErrorCode::kUniqueness, "a token with that name already exists");
    }
    return ErrorResponse(created.error());
  }
  store::AuditRecord audit = AuditOf(req, caller, tenant);
  audit.action = "token.create";
  audit.resource_type = "Token";
  audit.resource_id = record.name;
  {
    json::Document changes(rapidjson::kArrayType);
    auto& alloc = changes.GetAllocator();
    json::Value scopes_item(rapidjson::kObjectType);
    scopes_item.AddMember("attribute", "scopes", alloc);
    scopes_item.AddMember("old", json::Value(), alloc);
    scopes_item.AddMember("new", ScopesValue(record.scopes, alloc), alloc);
    changes.PushBack(scopes_item, alloc);
    json::Value expires_item(rapidjson::kObjectType);
    expires_item.AddMember("attribute", "expires", alloc);
    expires_item.AddMember("old", json::Value(), alloc);
    expires_item.AddMember("new", OptionalString(record.expires, alloc), alloc);
    changes.PushBack(expires_item, alloc);
    audit.changes = json::Serialize(changes);
  }
  (void)store::RecordAudit(*db_, audit);
  json::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  json::Value item = TokenValue(record, record.created, alloc);
  item.AddMember("secret", json::String(*secret, alloc), alloc);
  return AdminJson(json::Serialize(item), 201);
}

HttpResponse AdminHandlers::ListTokens(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  if (auth_ != nullptr) auth_->FlushUsage();
  auto tokens = tokens_->List(*tenant);
  if (!tokens.ok()) return ErrorResponse(tokens.error());
  std::string now = NowTimestamp();
  json::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const auth::TokenRecord& t : *tokens) {
    // Operator keys are the operator's business: a tenant admin neither sees nor revokes them.
    if (!caller.IsOperator() && t.scopes.count(auth::Scope::kOperator) > 0) continue;
    list.PushBack(TokenValue(t, now, alloc), alloc);
  }
  doc.AddMember("tokens", list, alloc);
  return AdminJson(json::Serialize(doc));
}

HttpResponse AdminHandlers::RevokeToken(const HttpRequest& req, const Caller& caller) const {
  auto tenant = AdminTenant(req, caller);
  if (!tenant.ok()) return ErrorResponse(tenant.error());
  const std::string& name = req.params.at("name");
  // The operator without ?tenant= may revoke any token; its tenant goes into the audit entry.
  std::string owner = tenant->value_or("");
  auto visible = tokens_->List(*tenant);
  if (!visible.ok()) return ErrorResponse(visible.error());
  for (const auth::TokenRecord& t : *visible) {
    if (t.name != name) continue;
    owner = t.tenant;
    if (!caller.IsOperator() && t.scopes.count(auth::Scope::kOperator) > 0) {
      return ErrorResponse(ErrorCode::kNotFound, "no active token named '" + name + "'");
    }
  }
  Status revoked = tokens_->Revoke(name, NowTimestamp(), *tenant);
  if (!revoked.ok()) return ErrorResponse(revoked.error());
  if (auth_ != nullptr) auth_->TokensChanged();
  store::AuditRecord audit = AuditOf(req, caller, owner);
  audit.action = "token.revoke";
  audit.resource_type = "Token";
  audit.resource_id = name;
  (void)store::RecordAudit(*db_, audit);
  HttpResponse response;
  response.status = 204;
  return response;
}

std::string AdminHandlers::MetricsText() const {
  auto metrics = store::DeliveryMetricsOf(*db_, targets_);
  return metrics.ok() ? DeliveryMetricsText(*metrics) : std::string();
}

}  // namespace scim::http
