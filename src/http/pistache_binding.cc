#include "http/pistache_binding.h"

#include "http/access_log.h"
#include "http/headers.h"
#include "http/tls_front.h"
#include "http/url_decode.h"

namespace scim::http {
namespace {

// The ":name" segments of a route pattern.
std::vector<std::string> ParamNames(const std::string& route) {
  std::vector<std::string> names;
  for (const std::string& segment : Split(route, '/')) {
    if (!segment.empty() && segment[0] == ':') names.push_back(segment);
  }
  return names;
}

// A relay from the TLS front comes from loopback; the front recorded who its client is.
std::string ClientAddress(const Pistache::Address& peer) {
  std::string host = peer.host();
  if (host == "127.0.0.1") {
    if (auto relayed = ClientAddressOf(static_cast<uint16_t>(peer.port()))) return *relayed;
  }
  return host;
}

}  // namespace

Result<HttpRequest> ToHttpRequest(const Pistache::Rest::Request& request,
                                  const std::string& route) {
  HttpRequest out;
  out.method = MethodName(request.method());
  out.path = request.resource();
  for (const std::string& name : ParamNames(route)) {
    SCIM_TRY(auto decoded, DecodePathSegment(request.param(name).as<std::string>()));
    out.params[name.substr(1)] = decoded;
  }
  SCIM_TRY(auto query, DecodeQuery(request.query()));
  for (const auto& [name, value] : query.params()) out.query.emplace(name, value);
  for (const auto& header : request.headers().rawList()) {
    out.headers[ToLower(header.first)] = header.second.value();
  }
  out.body = request.body();
  out.client_address = ClientAddress(request.address());
  out.request_id = RequestIdFor(out.Header("x-request-id"));
  return out;
}

void WriteResponse(const HttpResponse& response, Pistache::Http::ResponseWriter& writer) {
  auto& headers = writer.headers();
  if (response.location) headers.add<Pistache::Http::Header::Location>(*response.location);
  if (response.etag) SetHeader<ETag>(headers, *response.etag);
  if (response.www_authenticate) SetHeader<WwwAuthenticate>(headers, *response.www_authenticate);
  if (response.retry_after) SetHeader<RetryAfter>(headers, *response.retry_after);
  if (response.allow) SetHeader<AllowMethods>(headers, *response.allow);
  if (!response.request_id.empty()) SetHeader<RequestId>(headers, response.request_id);
  AddProtectiveHeaders(headers);
  if (response.static_file) {
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
