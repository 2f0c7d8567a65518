#include "http/pistache_binding.h"

#include <cstdint>
#include <random>

#include "http/headers.h"
#include "http/url_decode.h"

namespace scim::http {
namespace {

// A client's X-Request-Id is kept when it is 1..128 characters of [A-Za-z0-9._:-]; otherwise
// scimd makes one (32 hex digits).
bool UsableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 2; ++i) {
    uint64_t bits = rng();
    for (int j = 0; j < 16; ++j, bits >>= 4) id.push_back(kHex[bits & 0xf]);
  }
  return id;
}

// The ":name" segments of a route pattern.
std::vector<std::string> ParamNames(const std::string& route) {
  std::vector<std::string> names;
  for (const std::string& segment : Split(route, '/')) {
    if (!segment.empty() && segment[0] == ':') names.push_back(segment);
  }
  return names;
}

}  // namespace

Result<HttpRequest> ToHttpRequest(const Pistache::Rest::Request& request,
                                  const std::string& route) {
  HttpRequest out;
  out.method = MethodName(request.method());
  out.path = request.resource();
  for (const std::string& name : ParamNames(route)) {
    auto decoded = DecodePathSegment(request.param(name).as<std::string>());
    if (!decoded.ok()) return decoded.error();
    out.params[name.substr(1)] = *decoded;
  }
  auto query = DecodeQuery(request.query());
  if (!query.ok()) return query.error();
  for (const auto& [name, value] : query->params()) out.query.emplace(name, value);
  for (const auto& header : request.headers().rawList()) {
    out.headers[ToLower(header.first)] = header.second.value();
  }
  out.body = request.body();
  out.client = request.address().host();
  auto id = out.headers.find("x-request-id");
  out.request_id =
      id != out.headers.end() && UsableRequestId(id->second) ? id->second : NewRequestId();
  return out;
}

void WriteResponse(const HttpResponse& response, Pistache::Http::ResponseWriter& writer) {
  auto& headers = writer.headers();
  if (response.location) headers.add<Pistache::Http::Header::Location>(*response.location);
  if (response.etag) SetHeader<ETag>(headers, *response.etag);
  if (response.www_authenticate) SetHeader<WwwAuthenticate>(headers, *response.www_authenticate);
  if (response.retry_after) SetHeader<RetryAfter>(headers, *response.retry_after);
  if (response.request_id) SetHeader<XRequestId>(headers, *response.request_id);
  if (response.static_file) {
    SetHeader<CacheControlText>(headers, "no-store");
    SetHeader<XContentTypeOptions>(headers, "nosniff");
    SetHeader<ContentSecurityPolicy>(
        headers,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'");
    SetHeader<ReferrerPolicy>(headers, "no-referrer");
    SetHeader<XFrameOptions>(headers, "DENY");
  }
  auto code = static_cast<Pistache::Http::Code>(response.status);
  if (response.status == 204 || response.status == 304) {
    writer.send(code);
    return;
  }
  writer.send(code, response.body,
              Pistache::Http::Mime::MediaType::fromString(response.content_type));
}

std::string MethodName(Pistache::Http::Method method) {
  return Pistache::Http::methodString(method);
}

}  // namespace scim::http
