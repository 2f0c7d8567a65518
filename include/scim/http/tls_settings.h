#pragma once
// The TLS files of scimd's HTTPS listener (src/http/tls_front.h terminates TLS with them).

#include <string>

#include "scim/common/result.h"

namespace scim::http {

struct TlsSettings {
  std::string cert_file;       // PEM certificate chain, leaf first
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // optional: PEM CA(s) that client certificates must chain to
};

// Checks that the certificate, key (and CA) load into a TLS 1.2+ server context; kInvalidValue
// naming the file and OpenSSL's reason otherwise.
Status CheckTlsSettings(const TlsSettings& settings);

}  // namespace scim::http
