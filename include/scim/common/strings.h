#pragma once
// Small string utilities shared by every module.

#include <string>
#include <string_view>
#include <vector>

namespace scim {

// ASCII lower-casing (SCIM attribute names and most identifiers are ASCII). Non-ASCII bytes are
// left as they are; values compared case-insensitively use the same function on both sides.
std::string ToLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
std::vector<std::string> Split(std::string_view s, char sep);
std::string_view Trim(std::string_view s);

}  // namespace scim
