#include "http/access_log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <random>

#include "scim/common/log.h"

namespace scim::http {
namespace {

bool IsSaneRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-') return false;
  }
  return true;
}

void Field(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
           const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

std::string RequestIdFor(const std::optional<std::string>& client_value) {
  if (client_value && IsSaneRequestId(*client_value)) return *client_value;
  thread_local std::mt19937_64 random{std::random_device{}()};
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random()));
  return text;
}

void LogAccess(const HttpRequest& request, const std::string& route, int status, double seconds) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  Field(w, "event", "access");
  Field(w, "method", request.method);
  Field(w, "route", route);
  w.Key("status");
  w.Int(status);
  w.Key("ms");
  w.Double(std::round(seconds * 100000.0) / 100.0);
  Field(w, "token", request.caller_token);
  Field(w, "tenant", request.caller_tenant);
  Field(w, "client", request.client_address);
  Field(w, "request_id", request.request_id);
  w.EndObject();
  log::Record(log::Level::kInfo, std::string_view(buffer.GetString(), buffer.GetSize()));
}

}  // namespace scim::http
