#pragma once
// Signs Security Event Tokens (RFC 8417) as compact JWS: HS256 (HMAC-SHA256 over the secret's
// bytes) or RS256 (RSASSA-PKCS1-v1_5 with SHA-256 and an RSA private key in PEM).

#include <memory>
#include <string>
#include <string_view>

#include "scim/common/result.h"

namespace scim::adapters::webhook {

// base64url without padding (RFC 7515 §2).
std::string Base64UrlEncode(std::string_view bytes);

// Thread-safe after construction.
class SetSigner {
 public:
  virtual ~SetSigner() = default;

  // HS256 with `secret` (its bytes as given). kInvalidValue when empty.
  static Result<std::unique_ptr<SetSigner>> Hs256(std::string secret);
  // RS256 with the RSA private key in the PEM file at `path` (PKCS#8 or PKCS#1).
  // kInvalidValue when the file cannot be read or holds no RSA private key.
  static Result<std::unique_ptr<SetSigner>> Rs256FromPemFile(const std::string& path);

  // "HS256" | "RS256".
  virtual std::string_view Algorithm() const = 0;

  // The compact JWS "<b64url header>.<b64url claims>.<b64url signature>" for the given JSON
  // texts. kInternal if the crypto library fails.
  Result<std::string> Sign(std::string_view header_json, std::string_view claims_json) const;

 protected:
  // The raw signature of `input`.
  virtual Result<std::string> SignBytes(std::string_view input) const = 0;
};

}  // namespace scim::adapters::webhook
