#pragma once
// TlsFront: scimd's HTTPS listener. It terminates TLS with OpenSSL on one epoll thread (every
// handshake and record non-blocking) and relays the plaintext, connection for connection, to the
// HTTP server on a loopback port.
//
// Why not Pistache's own TLS (Http::Endpoint::useSSL): Pistache 0.0.5 runs a blocking SSL_accept
// in its only acceptor thread, so one client that opens a TCP connection and says nothing stops
// every later HTTPS client; its SSL_CTX is private (no TLS 1.2 minimum, no certificate reload).
//
// What it promises:
//  - TLS 1.2 minimum, no compression, no renegotiation; with `client_ca_file`, clients must
//    present a certificate that CA signed (mutual TLS), or the handshake fails;
//  - Reload() re-reads the certificate, key and CA; new handshakes use them, open connections
//    keep theirs (nothing is dropped);
//  - at most `max_connections` client connections: at the cap, a new client makes room by
//    closing the connection idle longest, those that have not finished a handshake first; when
//    the process runs out of descriptors it pauses accepting briefly instead of spinning;
//  - a handshake not finished within `handshake_timeout`, or a connection with no byte in either
//    direction for `idle_timeout`, is closed;
//  - the client's address is recorded in ClientAddresses() under the loopback port of its relay
//    connection for as long as that connection lives, so the HTTP layer can tell who the client
//    is (ClientAddressOf).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "scim/common/result.h"
#include "scim/http/tls_settings.h"

namespace scim::http {

struct TlsFrontOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: ephemeral; TlsFront::Port() tells which
  uint16_t backend_port = 0;
  TlsSettings tls;
  size_t max_connections = 1000;
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
};

class TlsFront {
 public:
  // Binds, loads the certificate and starts the relay thread. kInvalidValue for a bad
  // certificate or key, kUnavailable when the address cannot be bound. Sets SIGPIPE to be
  // ignored process-wide (OpenSSL writes with write(2)).
  static Result<std::unique_ptr<TlsFront>> Start(const TlsFrontOptions& options);
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  uint16_t Port() const;
  // Re-reads the files of options.tls. On error the old certificate stays in use.
  Status Reload();
  // Closes the listening socket and every connection; joins the thread. Idempotent.
  void Stop();
  // Client connections open now.
  size_t open_connections() const;

 private:
  class Impl;
  explicit TlsFront(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The real client address of a relayed connection, by the loopback port the relay connected
// from; nullopt for a connection that did not come through a TlsFront. Thread-safe.
std::optional<std::string> ClientAddressOf(uint16_t loopback_port);

}  // namespace scim::http
