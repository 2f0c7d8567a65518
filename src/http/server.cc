#include "http/server.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <utility>

namespace scim::http {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;
namespace Tcp = Pistache::Tcp;

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { Shutdown(std::chrono::milliseconds(0)); }

Status HttpServer::Start(std::shared_ptr<Rest::Router> router) {
  if (started_) return Error(ErrorCode::kInternal, "HttpServer::Start called twice");
  started_ = true;
  try {
    auto options = Http::Endpoint::options()
                       .threads(options_.threads)
                       .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                       .keepaliveTimeout(options_.keep_alive_timeout)
                       // A connection that never sends a complete head is cut as soon as an
                       // idle one would be.
                       .headerTimeout(options_.keep_alive_timeout);
    ApplyRequestLimits(options, options_.limits);
    control_->SetMaxConnections(options_.max_connections);
    // Behind a TlsFront, Pistache serves only the front's relays, on loopback.
    const bool tls = options_.tls.has_value();
    auto endpoint = std::make_unique<Http::Endpoint>(Pistache::Address(
        tls ? "127.0.0.1" : options_.address, Pistache::Port(tls ? 0 : options_.port)));
    endpoint->init(options);
    // Rest::Router::handler(shared_ptr) keeps a reference to the router (no copy), so routes
    // added after Start are served.
    endpoint->setHandler(std::make_shared<KeepAliveHandler>(
        Rest::Router::handler(router), options_.limits, control_, options_.log));
    endpoint->serveThreaded();
    port_ = static_cast<uint16_t>(endpoint->getPort());
    endpoint_ = std::move(endpoint);
    if (tls) return StartTlsFront();
  } catch (const std::exception& e) {
    stopped_ = true;
    return Error(ErrorCode::kUnavailable, "Cannot listen on " + options_.address + ":" +
                                              std::to_string(options_.port) + ": " + e.what());
  }
  return OkStatus();
}

Status HttpServer::StartTlsFront() {
  TlsFrontOptions front;
  front.address = options_.address;
  front.port = options_.port;
  front.backend_port = port_;
  front.tls = *options_.tls;
  front.max_connections = options_.max_connections > 0 ? options_.max_connections : 100000;
  front.idle_timeout = options_.keep_alive_timeout;
  auto started = TlsFront::Start(front);
  if (!started.ok()) {
    Shutdown(std::chrono::milliseconds(0));
    return started.error();
  }
  tls_front_ = std::move(*started);
  port_ = tls_front_->Port();
  return OkStatus();
}

Status HttpServer::ReloadTls() { return tls_front_ ? tls_front_->Reload() : OkStatus(); }

size_t HttpServer::open_connections() const {
  return tls_front_ ? tls_front_->open_connections() : control_->open_connections();
}

void HttpServer::Shutdown(std::chrono::milliseconds drain) {
  if (stopped_ || !endpoint_) {
    stopped_ = true;
    return;
  }
  stopped_ = true;
  control_->StartDraining();
  if (drain.count() > 0) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + drain;
    while (control_->open_requests() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // The answers are queued; each I/O loop writes them on its next turn.
    std::this_thread::sleep_for(std::min(drain, std::chrono::milliseconds(50)));
  }
  // Pistache's Endpoint::shutdown() closes no client socket and Peer's destructor does not
  // close its fd either: without this every open connection would leak its fd and its client
  // would wait for ever. The I/O threads shut the sockets down themselves; wait (briefly) for
  // Pistache to notice and close them.
  if (control_->CloseConnections() > 0) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(200);
    while (control_->open_connections() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  endpoint_->shutdown();
  // The listening socket closes with the Endpoint (its destructor joins the I/O threads).
  endpoint_.reset();
  if (tls_front_) tls_front_->Stop();
}

}  // namespace scim::http
