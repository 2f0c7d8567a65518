#include "http/scim_error.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "http/headers.h"

namespace scim::http {

std::string ScimErrorBody(int status, std::string_view detail, std::string_view scim_type) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  const std::string status_text = std::to_string(status);
  writer.StartObject();
  writer.Key("schemas");
  writer.StartArray();
  writer.String("urn:ietf:params:scim:api:messages:2.0:Error");
  writer.EndArray();
  writer.Key("status");
  writer.String(status_text.c_str(), static_cast<rapidjson::SizeType>(status_text.size()));
  if (!scim_type.empty()) {
    writer.Key("scimType");
    writer.String(scim_type.data(), static_cast<rapidjson::SizeType>(scim_type.size()));
  }
  writer.Key("detail");
  writer.String(detail.data(), static_cast<rapidjson::SizeType>(detail.size()));
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Pistache::Async::Promise<ssize_t> SendScimError(Pistache::Http::ResponseWriter& response,
                                                Pistache::Http::Code code, std::string_view detail,
                                                std::string_view scim_type) {
  AddProtectiveHeaders(response.headers());
  static const Pistache::Http::Mime::MediaType kScimJson =
      Pistache::Http::Mime::MediaType::fromString(std::string(kScimMediaType));
  return response.send(code, ScimErrorBody(static_cast<int>(code), detail, scim_type), kScimJson);
}

}  // namespace scim::http
