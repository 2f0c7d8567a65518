// POST /Bulk (RFC 7644 §3.7): runs the request through service::RunBulk and renders the
// BulkResponse, mapping each operation's error with the same table as single requests.

#include "http/error_response.h"
#include "http/scim_handlers.h"
#include "scim/service/bulk.h"

namespace scim::http {
namespace {

json::Value RenderOutcome(const service::BulkOutcome& outcome, json::Allocator& alloc) {
  json::Value op(rapidjson::kObjectType);
  op.AddMember("method", json::String(outcome.method, alloc), alloc);
  if (outcome.bulk_id) op.AddMember("bulkId", json::String(*outcome.bulk_id, alloc), alloc);
  if (outcome.version) op.AddMember("version", json::String(*outcome.version, alloc), alloc);
  if (outcome.location) op.AddMember("location", json::String(*outcome.location, alloc), alloc);
  if (outcome.error) {
    HttpResponse error = ErrorResponse(*outcome.error);
    json::Document body;
    if (json::Parse(error.body, body).ok()) {
      op.AddMember("response", json::Value(body, alloc), alloc);
    }
    op.AddMember("status", json::String(std::to_string(error.status), alloc), alloc);
  } else {
    op.AddMember("status", json::String(std::to_string(outcome.success_status), alloc), alloc);
  }
  return op;
}

}  // namespace

HttpResponse ScimHandlers::Bulk(const HttpRequest& req, const Caller& caller,
                                const json::Document& body) {
  if (!body.IsObject()) return ErrorResponse(ErrorCode::kInvalidSyntax, "a BulkRequest is an object");
  auto outcomes = service::RunBulk(*service_, ContextOf(req, caller), body,
                                   {settings_.bulk_max_operations});
  if (!outcomes.ok()) return ErrorResponse(outcomes.error());
  json::Document out(rapidjson::kObjectType);
  auto& alloc = out.GetAllocator();
  json::Value schemas(rapidjson::kArrayType);
  schemas.PushBack(json::String(schema::kBulkResponseSchema, alloc), alloc);
  out.AddMember("schemas", schemas, alloc);
  json::Value ops(rapidjson::kArrayType);
  for (const auto& outcome : *outcomes) ops.PushBack(RenderOutcome(outcome, alloc), alloc);
  out.AddMember("Operations", ops, alloc);
  return JsonResponse(200, out);
}

}  // namespace scim::http
