#include "http/error_response.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "scim/common/log.h"
#include "scim/schema/registry.h"

namespace scim::http {

HttpStatus StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidFilter:
      return {400, "invalidFilter"};
    case ErrorCode::kTooMany:
      return {400, "tooMany"};
    case ErrorCode::kUniqueness:
      return {409, "uniqueness"};  // RFC 7644 §3.3
    case ErrorCode::kMutability:
      return {400, "mutability"};
    case ErrorCode::kInvalidSyntax:
      return {400, "invalidSyntax"};
    case ErrorCode::kInvalidPath:
      return {400, "invalidPath"};
    case ErrorCode::kNoTarget:
      return {400, "noTarget"};
    case ErrorCode::kInvalidValue:
      return {400, "invalidValue"};
    case ErrorCode::kInvalidVersion:
      return {400, "invalidVers"};
    case ErrorCode::kSensitive:
      return {400, "sensitive"};
    case ErrorCode::kInvalidCursor:
      return {400, "invalidCursor"};  // RFC 9865 §4
    case ErrorCode::kBadRequest:
      return {400, nullptr};
    case ErrorCode::kUnauthorized:
      return {401, nullptr};
    case ErrorCode::kForbidden:
      return {403, nullptr};
    case ErrorCode::kNotFound:
      return {404, nullptr};
    case ErrorCode::kConflict:
      return {409, nullptr};
    case ErrorCode::kMethodNotAllowed:
      return {405, nullptr};
    case ErrorCode::kPreconditionFailed:
      return {412, nullptr};  // RFC 7644 §3.14
    case ErrorCode::kPayloadTooLarge:
      return {413, nullptr};
    case ErrorCode::kUnsupportedMediaType:
      return {415, nullptr};
    case ErrorCode::kTooManyRequests:
      return {429, nullptr};
    case ErrorCode::kInternal:
      return {500, nullptr};
    case ErrorCode::kNotImplemented:
      return {501, nullptr};
    case ErrorCode::kUnavailable:
      return {503, nullptr};
  }
  return {500, nullptr};
}

std::string ScimErrorBody(int status, std::string_view detail, std::string_view scim_type) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  const std::string status_text = std::to_string(status);
  writer.StartObject();
  writer.Key("schemas");
  writer.StartArray();
  writer.String(schema::kErrorSchema.data(),
                static_cast<rapidjson::SizeType>(schema::kErrorSchema.size()));
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

HttpResponse ErrorResponse(const Error& error) {
  HttpStatus status = StatusOf(error.code);
  std::string detail = error.detail;
  if (error.code == ErrorCode::kInternal) {
    log::Error("internal error: " + error.detail);
    detail = "internal server error";
  }
  HttpResponse response;
  response.status = status.status;
  response.body =
      ScimErrorBody(status.status, detail, status.scim_type != nullptr ? status.scim_type : "");
  if (error.code == ErrorCode::kUnauthorized) response.www_authenticate = "Bearer realm=\"scimd\"";
  // A 503 is transient (the database is restarting, the server is draining): say when to retry.
  if (error.code == ErrorCode::kUnavailable) response.retry_after = "1";
  return response;
}

HttpResponse ErrorResponse(ErrorCode code, const std::string& detail) {
  return ErrorResponse(Error(code, detail));
}

}  // namespace scim::http
