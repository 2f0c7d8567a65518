#include "http/discovery_handlers.h"

#include "http/error_response.h"

namespace scim::http {
namespace {

json::Value Supported(bool supported, json::Allocator& alloc) {
  json::Value v(rapidjson::kObjectType);
  v.AddMember("supported", supported, alloc);
  return v;
}

json::Document ListOf(json::Value resources, json::Document& doc) {
  auto& alloc = doc.GetAllocator();
  doc.SetObject();
  json::Value schemas(rapidjson::kArrayType);
  schemas.PushBack(json::String(schema::kListResponseSchema, alloc), alloc);
  doc.AddMember("schemas", schemas, alloc);
  doc.AddMember("totalResults", resources.Size(), alloc);
  doc.AddMember("itemsPerPage", resources.Size(), alloc);
  doc.AddMember("startIndex", 1, alloc);
  doc.AddMember("Resources", resources, alloc);
  return std::move(doc);
}

}  // namespace

DiscoveryHandlers::DiscoveryHandlers(std::shared_ptr<const schema::Registry> registry,
                                     Capabilities capabilities)
    : registry_(std::move(registry)), capabilities_(capabilities) {}

// RFC 7643 §5.
HttpResponse DiscoveryHandlers::ServiceProviderConfig(const std::string& base_url) const {
  json::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  json::Value schemas(rapidjson::kArrayType);
  schemas.PushBack("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig", alloc);
  doc.AddMember("schemas", schemas, alloc);
  doc.AddMember("documentationUri", "https://github.com/scimd/scimd", alloc);
  doc.AddMember("patch", Supported(true, alloc), alloc);
  json::Value bulk = Supported(capabilities_.bulk_supported, alloc);
  bulk.AddMember("maxOperations", capabilities_.bulk_max_operations, alloc);
  bulk.AddMember("maxPayloadSize", capabilities_.max_payload_bytes, alloc);
  doc.AddMember("bulk", bulk, alloc);
  json::Value filter = Supported(true, alloc);
  filter.AddMember("maxResults", capabilities_.max_page_size, alloc);
  doc.AddMember("filter", filter, alloc);
  doc.AddMember("changePassword", Supported(true, alloc), alloc);  // PUT/PATCH of password
  doc.AddMember("sort", Supported(true, alloc), alloc);
  doc.AddMember("etag", Supported(true, alloc), alloc);
  json::Value pagination(rapidjson::kObjectType);  // RFC 9865 §5
  pagination.AddMember("cursor", true, alloc);
  pagination.AddMember("index", true, alloc);
  pagination.AddMember("defaultPaginationMethod", "index", alloc);
  pagination.AddMember("defaultPageSize", std::min<int64_t>(100, capabilities_.max_page_size), alloc);
  pagination.AddMember("maxPageSize", capabilities_.max_page_size, alloc);
  doc.AddMember("pagination", pagination, alloc);
  if (capabilities_.security_events) {
    // RFC 9967 securityEvents (absent: not configured for events): the event URIs the webhook
    // targets push as SETs (src/adapters/webhook); informational, no asynchronous requests.
    json::Value uris(rapidjson::kArrayType);
    for (const char* uri :
         {"urn:ietf:params:scim:event:prov:create:full", "urn:ietf:params:scim:event:prov:put:full",
          "urn:ietf:params:scim:event:prov:patch:full", "urn:ietf:params:scim:event:prov:delete",
          "urn:ietf:params:scim:event:prov:activate",
          "urn:ietf:params:scim:event:prov:deactivate"}) {
      uris.PushBack(json::String(uri, alloc), alloc);
    }
    json::Value events(rapidjson::kObjectType);
    events.AddMember("asyncRequest", "none", alloc);
    events.AddMember("eventUris", uris, alloc);
    doc.AddMember("securityEvents", events, alloc);
  }
  json::Value scheme(rapidjson::kObjectType);
  scheme.AddMember("type", "oauthbearertoken", alloc);
  scheme.AddMember("name", "OAuth Bearer Token", alloc);
  scheme.AddMember("description", "Authentication with a scimd API token (RFC 6750)", alloc);
  scheme.AddMember("primary", true, alloc);
  json::Value schemes(rapidjson::kArrayType);
  schemes.PushBack(scheme, alloc);
  doc.AddMember("authenticationSchemes", schemes, alloc);
  json::Value meta(rapidjson::kObjectType);
  meta.AddMember("resourceType", "ServiceProviderConfig", alloc);
  meta.AddMember("location", json::String(base_url + "/ServiceProviderConfig", alloc), alloc);
  doc.AddMember("meta", meta, alloc);
  return JsonResponse(200, doc);
}

HttpResponse DiscoveryHandlers::ResourceTypes(const std::string& base_url) const {
  json::Document doc;
  json::Value list(rapidjson::kArrayType);
  for (const auto& type : registry_->resource_types()) {
    json::Value item;
    registry_->ResourceTypeToJson(type, base_url, item, doc.GetAllocator());
    list.PushBack(item, doc.GetAllocator());
  }
  return JsonResponse(200, ListOf(std::move(list), doc));
}

HttpResponse DiscoveryHandlers::ResourceType(const std::string& base_url,
                                             const std::string& name) const {
  const schema::ResourceType* type = registry_->FindResourceType(name);
  if (type == nullptr) return ErrorResponse(ErrorCode::kNotFound, "no resource type " + name);
  json::Document doc;
  registry_->ResourceTypeToJson(*type, base_url, doc, doc.GetAllocator());
  return JsonResponse(200, doc);
}

HttpResponse DiscoveryHandlers::Schemas(const std::string& base_url) const {
  json::Document doc;
  json::Value list(rapidjson::kArrayType);
  for (const auto& schema : registry_->schemas()) {
    json::Value item;
    registry_->SchemaToJson(schema, base_url, item, doc.GetAllocator());
    list.PushBack(item, doc.GetAllocator());
  }
  return JsonResponse(200, ListOf(std::move(list), doc));
}

HttpResponse DiscoveryHandlers::Schema(const std::string& base_url, const std::string& urn) const {
  const schema::Schema* schema = registry_->FindSchema(urn);
  if (schema == nullptr) return ErrorResponse(ErrorCode::kNotFound, "no schema " + urn);
  json::Document doc;
  registry_->SchemaToJson(*schema, base_url, doc, doc.GetAllocator());
  return JsonResponse(200, doc);
}

}  // namespace scim::http
