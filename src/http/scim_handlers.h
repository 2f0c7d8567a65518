#pragma once
// The SCIM endpoints of RFC 7644 §3 for Users and Groups, on HttpRequest/HttpResponse. Every
// failure becomes a SCIM error response; nothing throws.

#include <memory>
#include <string>

#include "http/authenticator.h"
#include "http/exchange.h"
#include "scim/service/resource_service.h"

namespace scim::http {

struct ScimSettings {
  std::string public_url;  // SCIM root for locations; empty: derived from the Host header
  size_t max_body_bytes = 1048576;
  int64_t bulk_max_operations = 1000;
};

class ScimHandlers {
 public:
  ScimHandlers(std::shared_ptr<service::ResourceService> service, ScimSettings settings);

  HttpResponse List(const HttpRequest& req, const Caller& caller, const schema::ResourceType& type);
  HttpResponse Search(const HttpRequest& req, const Caller& caller,
                      const std::vector<const schema::ResourceType*>& types);
  HttpResponse Create(const HttpRequest& req, const Caller& caller, const schema::ResourceType& type);
  HttpResponse Get(const HttpRequest& req, const Caller& caller, const schema::ResourceType& type);
  HttpResponse Replace(const HttpRequest& req, const Caller& caller, const schema::ResourceType& type);
  HttpResponse Patch(const HttpRequest& req, const Caller& caller, const schema::ResourceType& type);
  HttpResponse Delete(const HttpRequest& req, const Caller& caller, const schema::ResourceType& type);
  // POST /Bulk (RFC 7644 §3.7), its body parsed (the rate limit counts its operations first).
  HttpResponse Bulk(const HttpRequest& req, const Caller& caller, const json::Document& body);

  // The SCIM root as seen by this request (public_url, else http://<Host>/scim/v2).
  std::string BaseUrl(const HttpRequest& req) const;
  const ScimSettings& settings() const { return settings_; }

 private:
  service::RequestContext ContextOf(const HttpRequest& req, const Caller& caller) const;

  std::shared_ptr<service::ResourceService> service_;
  ScimSettings settings_;
};

// A 200/201 response with a JSON body, ETag from meta.version and Location from meta.location.
HttpResponse ResourceResponse(int status, const json::Document& resource);
HttpResponse JsonResponse(int status, const json::Value& body);

}  // namespace scim::http
