#pragma once
// Private to scim_auth: URL-safe base64 without padding (RFC 4648 §5, "base64url"), used for token
// secrets and for the salt and hash fields of password hashes.

#include <optional>
#include <string>
#include <string_view>

namespace scim::auth {

// Encodes `bytes` with the alphabet A-Z a-z 0-9 - _ and no "=" padding.
std::string Base64UrlEncode(std::string_view bytes);

// Strict inverse of Base64UrlEncode: nullopt for any character outside the alphabet (including
// "=" and whitespace), a length of 1 mod 4, or non-zero unused bits in the last character, so
// each byte string has exactly one accepted encoding.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace scim::auth
