#include "http/admin_handlers.h"

#include <charconv>

#include "http/error_response.h"
#include "scim/common/clock.h"
#include "scim/common/json.h"
#include "scim/store/audit_log.h"

namespace scim::http {
namespace {

HttpResponse AdminJson(std::string body) {
  HttpResponse response;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

std::string AuditJson(const std::vector<store::AuditEntry>& entries) {
  json::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const auto& e : entries) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("time", json::String(e.time, alloc), alloc);
    item.AddMember("actor", json::String(e.actor, alloc), alloc);
    item.AddMember("action", json::String(e.action, alloc), alloc);
    item.AddMember("resource_type", json::String(e.resource_type, alloc), alloc);
    item.AddMember("resource_id", json::String(e.resource_id, alloc), alloc);
    item.AddMember("version", static_cast<int64_t>(e.version), alloc);
    list.PushBack(item, alloc);
  }
  doc.AddMember("entries", list, alloc);
  return json::Serialize(doc);
}

}  // namespace

AdminHandlers::AdminHandlers(std::shared_ptr<store::Database> db,
                             std::vector<delivery::TargetRef> targets)
    : db_(std::move(db)), targets_(std::move(targets)) {}

HttpResponse AdminHandlers::SyncStatus(const HttpRequest&) const {
  auto status = delivery::SyncStatus(*db_, targets_);
  if (!status.ok()) return ErrorResponse(status.error());
  return AdminJson(delivery::SyncStatusJson(*status));
}

HttpResponse AdminHandlers::Deliveries(const HttpRequest& req) const {
  int limit = 100;
  if (auto text = req.Query("limit")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size()) {
      return ErrorResponse(ErrorCode::kInvalidValue, "limit must be an integer");
    }
  }
  auto rows = delivery::ListDeliveries(*db_, req.Query("status"), req.Query("target"), limit);
  if (!rows.ok()) return ErrorResponse(rows.error());
  return AdminJson(delivery::DeliveriesJson(*rows));
}

HttpResponse AdminHandlers::RetryDelivery(const HttpRequest& req) const {
  const std::string& text = req.params.at("id");
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return ErrorResponse(ErrorCode::kNotFound, "no delivery " + text);
  }
  Status retried = delivery::RetryDelivery(*db_, id);
  if (!retried.ok()) return ErrorResponse(retried.error());
  return AdminJson("{\"id\":" + std::to_string(id) + ",\"status\":\"pending\"}");
}

HttpResponse AdminHandlers::Links(const HttpRequest& req, const Caller& caller) const {
  auto resource = req.Query("resource");
  if (!resource || resource->empty()) {
    return ErrorResponse(ErrorCode::kInvalidValue, "the resource parameter is required");
  }
  auto links = delivery::LinksOf(*db_, caller.tenant, *resource);
  if (!links.ok()) return ErrorResponse(links.error());
  return AdminJson(delivery::LinksJson(*links));
}

HttpResponse AdminHandlers::Audit(const HttpRequest& req, const Caller& caller) const {
  store::AuditQuery query;
  query.tenant = caller.tenant;
  if (auto since = req.Query("since")) {
    query.since = NormalizeTimestamp(*since);
    if (!query.since) return ErrorResponse(ErrorCode::kInvalidValue, "since must be a dateTime");
  }
  query.resource_id = req.Query("resource");
  auto entries = store::ReadAuditLog(*db_, query);
  if (!entries.ok()) return ErrorResponse(entries.error());
  return AdminJson(AuditJson(*entries));
}

std::string AdminHandlers::MetricsText() const {
  auto text = delivery::MetricsText(*db_, targets_);
  return text.ok() ? *text : std::string();
}

}  // namespace scim::http
