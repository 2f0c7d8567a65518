#pragma once
// KeepAliveHandler: the Pistache handler scimd gives to Http::Endpoint::setHandler. It puts a
// RequestFramer in front of Pistache's request parser and dispatches each parsed request to an
// inner Http::Handler (in scimd, the Rest::Router's handler). For every route at once it fixes
// these Pistache 0.0.5 behaviours:
//  - persistence follows RFC 9112 §9.3: HTTP/1.1 stays open unless the request says "close";
//    HTTP/1.0 only with "keep-alive". The response carries the matching Connection header, and
//    after a non-persistent request the server half-closes the socket once the response is out;
//  - pipelined requests (several in one read) are all answered, in order;
//  - "Expect: 100-continue" gets its interim response (or a 413 before the body is sent);
//  - requests over the RequestLimits, malformed framing, parse errors and unhandled route
//    exceptions get a SCIM error JSON response (Connection: close) instead of Pistache's text,
//    and an exception's what() never reaches the client;
//  - while a ServerControl is draining, new requests get a SCIM 503.
//
// How it is built: Http::Handler::onInput is what Pistache would run; it creates the
// ResponseWriter with Connection: Close for HTTP/1.1 requests without a Connection header and
// resets its parser after each request, dropping pipelined bytes. KeepAliveHandler overrides
// onInput and onConnection and does that work itself with Pistache's public API
// (Http::RequestParser stored under Handler::ParserData, the public ResponseWriter constructor,
// Tcp::Handler::transport()), so it needs no access to private members. The inner handler is only
// used through its public onRequest, onTimeout and onDisconnection.
//
// Why not rewrite the request bytes (insert "Connection: keep-alive") and forward them to the
// router handler's own onInput: that onInput still resets its parser after each request (so a
// rewriting front must split pipelined requests anyway), still answers errors and 413 in plain
// text and sends what() for exceptions, and the inner handler would have to be associated with
// the transport through its private Tcp::Handler::associateTransport.
//
// Contract for the inner handler: it answers before onRequest returns (SafeRoute enforces this
// for every route). The server-side close after a non-persistent request is queued right after
// onRequest returns; an answer sent later would be lost.

#include <pistache/http.h>
#include <pistache/peer.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "http/error_log.h"
#include "http/limits.h"
#include "http/request_framer.h"

namespace scim::http {

// What the connection cap needs to know of one connection; written by its I/O thread without a
// lock, read when a connection has to be chosen for eviction.
struct ConnectionActivity {
  std::atomic<int64_t> last_input_ns{0};  // steady clock of the last byte received
  std::atomic<bool> spoke{false};         // any byte received at all
  std::atomic<bool> busy{false};          // a request is being received or answered
  std::atomic<bool> evicting{false};      // already asked to close
  void Touch();
};

// State shared by all clones of one server's KeepAliveHandler (one clone per I/O thread).
// Thread-safe.
class ServerControl {
 public:
  // At most `max` open connections: when a new one would pass it, the idle connection that has
  // been silent longest is closed (one that never sent a byte first; never one with a request in
  // progress). 0: no cap.
  void SetMaxConnections(size_t max) { max_connections_.store(max); }
  // Connections closed to make room so far.
  uint64_t evicted_connections() const { return evicted_.load(); }

  // From now on requests whose head arrives get a SCIM 503 with Connection: close. Requests
  // already accepted go on.
  void StartDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  // Requests whose head was accepted and that have not been answered and returned from the
  // inner handler yet (a request still receiving its body counts).
  int open_requests() const { return open_requests_.load(); }
  void RequestOpened() { open_requests_.fetch_add(1); }
  void RequestClosed() { open_requests_.fetch_sub(1); }

  // Book-keeping of open connections, by KeepAliveHandler's onConnection/onDisconnection.
  // ConnectionOpened may close an older connection to stay within the cap.
  void ConnectionOpened(const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                        std::shared_ptr<ConnectionActivity> activity);
  void ConnectionClosed(const Pistache::Tcp::Peer& peer);

  // Connections not yet closed (a connection Pistache drops at its keep-alive timeout leaves
  // without onDisconnection; it stops counting once Pistache has released it).
  size_t open_connections() const;

  // Asks every open connection to shut down (shutdown(2) SHUT_RDWR) once what is already
  // queued for it has been written; Pistache then sees the end of the connection and closes
  // its socket. The shutdown runs in the connection's I/O thread, where the socket is known to
  // be open. Returns how many connections were asked. Pistache's own Endpoint::shutdown()
  // closes no client socket at all, so this is how a server stops with no client left waiting.
  size_t CloseConnections();

 private:
  std::atomic<bool> draining_{false};
  std::atomic<int> open_requests_{0};
  std::atomic<size_t> max_connections_{0};
  std::atomic<uint64_t> evicted_{0};
  struct Tracked {
    std::weak_ptr<Pistache::Tcp::Peer> peer;
    std::shared_ptr<ConnectionActivity> activity;
  };
  // The connection to close to make room (nullptr when none may be closed); mutex_ held.
  std::shared_ptr<Pistache::Tcp::Peer> PickVictimLocked(size_t newcomer);
  mutable std::mutex mutex_;
  // By Peer::getID(), which Pistache never reuses.
  std::unordered_map<size_t, Tracked> connections_;
  size_t prune_at_ = 64;
};

class KeepAliveHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(KeepAliveHandler)

  // `inner` receives the parsed requests; `limits` bound every request; `control` may be null
  // (a private one is made); `log` receives what clients must not see (default: stderr).
  KeepAliveHandler(std::shared_ptr<Pistache::Http::Handler> inner, RequestLimits limits,
                   std::shared_ptr<ServerControl> control = nullptr, ErrorLog log = LogHttpError);

  // Shares limits, control and log, and clones the inner handler, as Pistache's Prototype
  // pattern expects (the endpoint clones its handler once per I/O thread).
  KeepAliveHandler(const KeepAliveHandler& other);
  KeepAliveHandler& operator=(const KeepAliveHandler&) = delete;
  ~KeepAliveHandler() override = default;

  // Pistache's Tcp::Handler hooks; Pistache's I/O thread calls them.
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;

  // Forwarded to the inner handler (Pistache calls onTimeout for ResponseWriter::timeoutAfter).
  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter response) override;
  void onTimeout(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter response) override;

  const std::shared_ptr<ServerControl>& control() const { return control_; }

 private:
  struct PeerState;
  class Sink;

  std::shared_ptr<PeerState> StateOf(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  // Feeds `bytes` to Pistache's parser; dispatches the request when it is complete.
  void ParseAndDispatch(std::string_view bytes, const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                        PeerState& state);
  void Dispatch(const std::shared_ptr<Pistache::Tcp::Peer>& peer, PeerState& state);
  // Answers with a SCIM error and Connection: close, stops reading the connection and
  // half-closes it once the answer is written.
  void Refuse(const std::shared_ptr<Pistache::Tcp::Peer>& peer, PeerState& state, int status,
              std::string_view detail);
  void CloseRequest(PeerState& state);
  // Calls shutdown(fd, how) on the peer's socket, from its I/O thread, after everything queued
  // for it so far has been written.
  static void CloseAfterWrites(const std::shared_ptr<Pistache::Tcp::Peer>& peer, int how);

  friend class ServerControl;

  std::shared_ptr<Pistache::Http::Handler> inner_;
  RequestLimits limits_;
  std::shared_ptr<ServerControl> control_;
  ErrorLog log_;
};

}  // namespace scim::http
