#pragma once
// HttpServer: scimd's Pistache endpoint, with KeepAliveHandler in front of the router, the
// request limits applied, and a drain before shutdown.

#include <pistache/endpoint.h>
#include <pistache/router.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/error_log.h"
#include "http/keep_alive_handler.h"
#include "http/limits.h"
#include "http/tls_front.h"
#include "scim/common/result.h"

namespace scim::http {

struct HttpServerOptions {
  // Address to listen on: an IPv4 or IPv6 literal, or a host name.
  std::string address = "127.0.0.1";
  // 0 picks an ephemeral port; HttpServer::Port() tells which.
  uint16_t port = 0;
  // Pistache I/O threads (each runs handlers; Pistache adds its own acceptor threads).
  int threads = 2;
  RequestLimits limits;
  // An idle keep-alive connection is closed after this long.
  std::chrono::seconds keep_alive_timeout{60};
  // Open client connections at most (see ServerControl::SetMaxConnections, TlsFront); 0: no cap.
  // Keep it below the descriptor limit: Pistache's acceptor spins when accept() fails.
  size_t max_connections = 0;
  // HTTPS: when set, a TlsFront listens on address:port and Pistache on an ephemeral loopback
  // port behind it.
  std::optional<TlsSettings> tls;
  // Receives handler failures; default stderr.
  ErrorLog log = LogHttpError;
};

// Not thread-safe: call Start, Port and Shutdown from one thread (the owner's).
//
// Signals: Pistache's threads inherit the signal mask of the thread that calls Start(). A
// program that waits for SIGTERM/SIGINT with sigwait() must block them (pthread_sigmask)
// before Start(), or the signal may land in an I/O thread.
class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  // Shutdown(0ms) if still running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving `router` on background threads; returns once the socket listens.
  // Routes added to `router` later are served too. Errors: kUnavailable when the address cannot
  // be bound (in use, not local, not resolvable), with Pistache's reason; kInternal when the
  // server was already started.
  Status Start(std::shared_ptr<Pistache::Rest::Router> router);

  // The bound port (the ephemeral one when options.port was 0); 0 before Start().
  uint16_t Port() const { return port_; }

  // Re-reads the TLS certificate, key and CA: new connections use them, open ones are kept.
  // An error leaves the old certificate in use. OkStatus without TLS.
  Status ReloadTls();

  // Open client connections.
  size_t open_connections() const;
  // Connections closed to make room under max_connections.
  uint64_t evicted_connections() const { return control_->evicted_connections(); }

  // Stops the server. Idempotent; a server cannot be started again. Steps:
  //  1. from now on, requests whose head arrives are answered 503 with Connection: close (the
  //     listening socket stays open until step 4: Pistache cannot stop accepting on its own);
  //  2. waits up to `drain` for the requests already accepted to be answered (their route has
  //     returned), then at most 50 ms more for those answers to be written;
  //  3. shuts down every client connection once what is queued for it is written, and waits up
  //     to 200 ms for Pistache to close them (Pistache alone would leave them open: their fds
  //     would leak and their clients wait for ever);
  //  4. stops Pistache's threads and closes the listening socket.
  // Not guaranteed: a request still in flight after `drain` (a slow route, or a client still
  // sending its body) loses its response, because Pistache stops its I/O loop without flushing;
  // a large response that a slow client has not read within the 50 ms may be cut. Pistache
  // itself leaks a few internal fds (epoll, eventfd, timerfd) per server. drain = 0 skips step
  // 2's waits.
  void Shutdown(std::chrono::milliseconds drain = std::chrono::seconds(5));

 private:
  Status StartTlsFront();

  HttpServerOptions options_;
  std::shared_ptr<ServerControl> control_ = std::make_shared<ServerControl>();
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  std::unique_ptr<TlsFront> tls_front_;
  uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace scim::http
