#include "http/scim_handlers.h"

#include <charconv>

#include "http/error_response.h"
#include "scim/service/selection.h"
#include "scim/store/resource_store.h"

namespace scim::http {
namespace {

constexpr const char* kScimRoot = "/scim/v2";

// RFC 7644 §3.14: If-Match carries the version the client last saw; "*" matches any.
Result<std::optional<int64_t>> IfMatch(const HttpRequest& req) {
  auto header = req.Header("if-match");
  if (!header || Trim(*header) == "*") return std::optional<int64_t>();
  auto version = store::ParseVersion(Trim(*header));
  if (!version) return Error(ErrorCode::kPreconditionFailed, "If-Match does not name a version");
  return std::optional<int64_t>(*version);
}

Result<json::Document> ParseBody(const HttpRequest& req) {
  json::Document body;
  SCIM_RETURN_IF_ERROR(json::Parse(req.body, body));
  if (!body.IsObject())
    return Error(ErrorCode::kInvalidSyntax, "the request body must be a JSON object");
  return body;
}

Result<schema::AttributeSelection> SelectionOf(const service::ResourceService& service,
                                               const HttpRequest& req,
                                               const schema::ResourceType& type) {
  return service::ParseAttributeSelection(service.registry(), type,
                                          req.Query("attributes").value_or(""),
                                          req.Query("excludedAttributes").value_or(""));
}

Result<std::optional<int64_t>> IntegerParam(const std::optional<std::string>& text,
                                            const char* name) {
  if (!text || text->empty()) return std::optional<int64_t>();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return Error(ErrorCode::kInvalidValue, std::string(name) + " must be an integer");
  }
  return std::optional<int64_t>(value);
}

Result<service::SearchParams> ParamsFromQuery(const HttpRequest& req) {
  service::SearchParams p;
  p.filter = req.Query("filter");
  p.sort_by = req.Query("sortBy");
  p.sort_order = req.Query("sortOrder");
  p.cursor = req.Query("cursor");
  p.attributes = req.Query("attributes").value_or("");
  p.excluded_attributes = req.Query("excludedAttributes").value_or("");
  SCIM_TRY(auto start, IntegerParam(req.Query("startIndex"), "startIndex"));
  SCIM_TRY(auto count, IntegerParam(req.Query("count"), "count"));
  p.start_index = start;
  p.count = count;
  return p;
}

std::optional<std::string> StringField(const json::Value& body, const char* name) {
  const json::Value* v = json::FindMemberCI(body, name);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(json::View(*v));
}

// The attribute lists of a SearchRequest may be JSON arrays or comma-separated strings.
std::string ListField(const json::Value& body, const char* name) {
  const json::Value* v = json::FindMemberCI(body, name);
  if (v == nullptr) return "";
  if (v->IsString()) return std::string(json::View(*v));
  std::string out;
  if (v->IsArray()) {
    for (const auto& item : v->GetArray()) {
      if (!item.IsString()) continue;
      if (!out.empty()) out += ",";
      out += json::View(item);
    }
  }
  return out;
}

// RFC 7644 §3.4.3: the SearchRequest body of POST .search.
Result<service::SearchParams> ParamsFromBody(const json::Value& body) {
  service::SearchParams p;
  p.filter = StringField(body, "filter");
  p.sort_by = StringField(body, "sortBy");
  p.sort_order = StringField(body, "sortOrder");
  p.cursor = StringField(body, "cursor");
  p.attributes = ListField(body, "attributes");
  p.excluded_attributes = ListField(body, "excludedAttributes");
  for (auto [name, target] : {std::pair{"startIndex", &p.start_index}, {"count", &p.count}}) {
    const json::Value* v = json::FindMemberCI(body, name);
    if (v == nullptr) continue;
    if (!v->IsInt64())
      return Error(ErrorCode::kInvalidValue, std::string(name) + " must be an integer");
    *target = v->GetInt64();
  }
  return p;
}

}  // namespace

HttpResponse JsonResponse(int status, const json::Value& body) {
  HttpResponse response;
  response.status = status;
  response.body = json::Serialize(body);
  return response;
}

HttpResponse ResourceResponse(int status, const json::Document& resource) {
  HttpResponse response = JsonResponse(status, resource);
  auto meta = resource.FindMember("meta");
  if (meta != resource.MemberEnd() && meta->value.IsObject()) {
    auto version = meta->value.FindMember("version");
    if (version != meta->value.MemberEnd() && version->value.IsString()) {
      response.etag = std::string(json::View(version->value));
    }
    auto location = meta->value.FindMember("location");
    if (status == 201 && location != meta->value.MemberEnd() && location->value.IsString()) {
      response.location = std::string(json::View(location->value));
    }
  }
  return response;
}

ScimHandlers::ScimHandlers(std::shared_ptr<service::ResourceService> service, ScimSettings settings)
    : service_(std::move(service)), settings_(std::move(settings)) {}

std::string ScimHandlers::BaseUrl(const HttpRequest&) const {
  if (!settings_.public_url.empty()) return settings_.public_url;
  // Never the client's Host header: any client could make scimd hand out links to its host.
  return std::string("http://localhost") + kScimRoot;
}

service::RequestContext ScimHandlers::ContextOf(const HttpRequest& req,
                                                const Caller& caller) const {
  return {caller.tenant, caller.actor, BaseUrl(req), req.client_address, req.request_id};
}

HttpResponse ScimHandlers::List(const HttpRequest& req, const Caller& caller,
                                const schema::ResourceType& type) {
  auto params = ParamsFromQuery(req);
  if (!params.ok()) return ErrorResponse(params.error());
  auto result = service_->Search(ContextOf(req, caller), {&type}, *params);
  return result.ok() ? JsonResponse(200, *result) : ErrorResponse(result.error());
}

HttpResponse ScimHandlers::Search(const HttpRequest& req, const Caller& caller,
                                  const std::vector<const schema::ResourceType*>& types) {
  auto body = ParseBody(req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto params = ParamsFromBody(*body);
  if (!params.ok()) return ErrorResponse(params.error());
  auto result = service_->Search(ContextOf(req, caller), types, *params);
  return result.ok() ? JsonResponse(200, *result) : ErrorResponse(result.error());
}

HttpResponse ScimHandlers::Create(const HttpRequest& req, const Caller& caller,
                                  const schema::ResourceType& type) {
  auto body = ParseBody(req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto selection = SelectionOf(*service_, req, type);
  if (!selection.ok()) return ErrorResponse(selection.error());
  auto created = service_->Create(ContextOf(req, caller), type, *body, *selection);
  return created.ok() ? ResourceResponse(201, *created) : ErrorResponse(created.error());
}

HttpResponse ScimHandlers::Get(const HttpRequest& req, const Caller& caller,
                               const schema::ResourceType& type) {
  auto selection = SelectionOf(*service_, req, type);
  if (!selection.ok()) return ErrorResponse(selection.error());
  auto resource = service_->Get(ContextOf(req, caller), type, req.params.at("id"), *selection);
  if (!resource.ok()) return ErrorResponse(resource.error());
  HttpResponse response = ResourceResponse(200, *resource);
  auto if_none_match = req.Header("if-none-match");
  if (if_none_match && response.etag &&
      store::ParseVersion(Trim(*if_none_match)) == store::ParseVersion(*response.etag)) {
    response.status = 304;  // RFC 7644 §3.14, RFC 9110 §13.1.2
    response.body.clear();
  }
  return response;
}

HttpResponse ScimHandlers::Replace(const HttpRequest& req, const Caller& caller,
                                   const schema::ResourceType& type) {
  auto body = ParseBody(req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto if_match = IfMatch(req);
  if (!if_match.ok()) return ErrorResponse(if_match.error());
  auto selection = SelectionOf(*service_, req, type);
  if (!selection.ok()) return ErrorResponse(selection.error());
  auto replaced = service_->Replace(ContextOf(req, caller), type, req.params.at("id"), *body,
                                    *if_match, *selection);
  return replaced.ok() ? ResourceResponse(200, *replaced) : ErrorResponse(replaced.error());
}

HttpResponse ScimHandlers::Patch(const HttpRequest& req, const Caller& caller,
                                 const schema::ResourceType& type) {
  auto body = ParseBody(req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto if_match = IfMatch(req);
  if (!if_match.ok()) return ErrorResponse(if_match.error());
  // RFC 7644 §3.5.2: a successful PATCH answers 200 with the resource or 204 without a body.
  // A Group patched without `attributes`/`excludedAttributes` gets 204 (what Entra ID documents
  // and Okta accepts), so one member change costs the same for 10 or 100,000 members; asking
  // for attributes gets 200 with the projected resource.
  bool no_content =
      type.name == "Group" && !req.Query("attributes") && !req.Query("excludedAttributes");
  auto selection = no_content ? schema::ParseSelection(service_->registry(), type, "", "members")
                              : SelectionOf(*service_, req, type);
  if (!selection.ok()) return ErrorResponse(selection.error());
  auto patched = service_->Patch(ContextOf(req, caller), type, req.params.at("id"), *body,
                                 *if_match, *selection);
  if (!patched.ok()) return ErrorResponse(patched.error());
  HttpResponse response = ResourceResponse(200, *patched);
  if (no_content) {
    response.status = 204;
    response.body.clear();
  }
  return response;
}

HttpResponse ScimHandlers::Delete(const HttpRequest& req, const Caller& caller,
                                  const schema::ResourceType& type) {
  auto if_match = IfMatch(req);
  if (!if_match.ok()) return ErrorResponse(if_match.error());
  Status deleted = service_->Delete(ContextOf(req, caller), type, req.params.at("id"), *if_match);
  if (!deleted.ok()) return ErrorResponse(deleted.error());
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace scim::http
