#include "service/value_limits.h"

#include <string>

#include "scim/common/strings.h"

namespace scim::service {
namespace {

bool Exempt(std::string_view top_level_name) {
  return EqualsIgnoreCase(top_level_name, "schemas") ||
         EqualsIgnoreCase(top_level_name, "members") || EqualsIgnoreCase(top_level_name, "groups");
}

// Attribute paths as clients write them: "emails", "name.givenName", and for extension
// attributes "urn:...:User:externalIds".
std::string ChildPath(const std::string& parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  bool extension_object =
      parent.rfind("urn:", 0) == 0 && parent.find('.', parent.rfind(':')) == std::string::npos;
  return parent + (extension_object ? ":" : ".") + std::string(name);
}

Status CheckValue(const json::Value& value, const std::string& path, int64_t max_values);

Status CheckObject(const json::Value& object, const std::string& path, int64_t max_values) {
  for (const auto& member : object.GetObject()) {
    std::string_view name = json::View(member.name);
    if (path.empty() && Exempt(name)) continue;
    SCIM_RETURN_IF_ERROR(CheckValue(member.value, ChildPath(path, name), max_values));
  }
  return OkStatus();
}

Status CheckValue(const json::Value& value, const std::string& path, int64_t max_values) {
  if (value.IsObject()) return CheckObject(value, path, max_values);
  if (!value.IsArray()) return OkStatus();
  if (static_cast<int64_t>(value.Size()) > max_values) {
    return Error(ErrorCode::kInvalidValue, path + ": at most " + std::to_string(max_values) +
                                               " values allowed, got " +
                                               std::to_string(value.Size()));
  }
  for (const auto& element : value.GetArray()) {
    if (element.IsObject()) SCIM_RETURN_IF_ERROR(CheckObject(element, path, max_values));
  }
  return OkStatus();
}

}  // namespace

Status CheckValuesPerAttribute(const json::Value& resource, int64_t max_values) {
  if (max_values <= 0 || !resource.IsObject()) return OkStatus();
  return CheckObject(resource, "", max_values);
}

}  // namespace scim::service
