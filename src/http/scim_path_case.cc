#include "http/scim_path_case.h"

namespace scim::http {
namespace {

constexpr std::string_view kRoot = "/scim/v2/";
constexpr std::string_view kEndpoints[] = {
    "Users",         "Groups",  "Bulk", "ServiceProviderConfig",
    "ResourceTypes", "Schemas", "Me",   ".search"};

bool SameIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// The end of the path segment that starts at `from` ('/', '?' or the end of the path).
size_t SegmentEnd(std::string_view path, size_t from) {
  size_t end = path.find('/', from);
  return end == std::string_view::npos ? path.size() : end;
}

}  // namespace

std::string CanonicalScimTarget(std::string_view target) {
  std::string out(target);
  std::string_view path = target.substr(0, target.find('?'));
  if (path.substr(0, kRoot.size()) != kRoot) return out;
  size_t start = kRoot.size();
  size_t end = SegmentEnd(path, start);
  std::string_view segment = path.substr(start, end - start);
  for (std::string_view name : kEndpoints) {
    if (segment != name && SameIgnoringCase(segment, name)) {
      out.replace(start, name.size(), name);
      segment = name;
      break;
    }
  }
  // /Users/.search, /Groups/.search (an id never starts with '.').
  if ((segment == "Users" || segment == "Groups") && end < path.size()) {
    size_t next = end + 1;
    size_t next_end = SegmentEnd(path, next);
    if (SameIgnoringCase(path.substr(next, next_end - next), ".search")) {
      out.replace(next, 7, ".search");
    }
  }
  return out;
}

}  // namespace scim::http
