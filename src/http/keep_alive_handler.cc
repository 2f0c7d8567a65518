#include "http/keep_alive_handler.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "http/scim_error.h"

namespace scim::http {
namespace {

namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;

// Key of our per-connection state in Peer::putData (the peer owns it, so it is freed with the
// peer even when Pistache drops a connection without calling onDisconnection, as its keep-alive
// timeout does).
constexpr const char* kPeerStateKey = "scimd.http";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

Http::Version ToPistache(HttpVersion version) {
  return version == HttpVersion::kHttp10 ? Http::Version::Http10 : Http::Version::Http11;
}

}  // namespace

struct KeepAliveHandler::PeerState {
  PeerState(RequestLimits limits, std::shared_ptr<ServerControl> server,
            std::shared_ptr<Http::RequestParser> request_parser)
      : framer(limits), control(std::move(server)), parser(std::move(request_parser)) {}
  ~PeerState() {
    if (open) control->RequestClosed();
  }

  RequestFramer framer;
  std::shared_ptr<ServerControl> control;
  std::shared_ptr<Http::RequestParser> parser;
  RequestHead head;
  std::shared_ptr<ConnectionActivity> activity = std::make_shared<ConnectionActivity>();
  bool open = false;        // counted in control->open_requests()
  bool dispatched = false;  // Pistache's parser completed the current request
};

// The FramerSink of one onInput call.
class KeepAliveHandler::Sink final : public FramerSink {
 public:
  Sink(KeepAliveHandler& handler, const std::shared_ptr<Tcp::Peer>& peer, PeerState& state)
      : handler_(handler), peer_(peer), state_(state) {}

  bool OnHead(const RequestHead& head) override {
    state_.head = head;
    state_.dispatched = false;
    if (handler_.control_->draining()) {
      handler_.Refuse(peer_, state_, 503, "The server is shutting down.");
      return false;
    }
    state_.open = true;
    state_.activity->busy.store(true);
    handler_.control_->RequestOpened();
    if (head.expect_continue) {
      peer_->send(Pistache::RawBuffer(kContinue.data(), kContinue.size()));
    }
    return true;
  }

  void OnForward(std::string_view bytes) override {
    handler_.ParseAndDispatch(bytes, peer_, state_);
  }

  void OnRequestEnd() override {
    if (!state_.dispatched) {
      // Cannot happen while the framer and Pistache agree on framing; never leave it hanging.
      handler_.Refuse(peer_, state_, 400, "The request could not be parsed.");
      return;
    }
    state_.dispatched = false;
    handler_.CloseRequest(state_);
    if (!state_.head.persistent) CloseAfterWrites(peer_, SHUT_WR);
  }

  void OnError(const FramingError& error) override {
    handler_.Refuse(peer_, state_, error.status, error.detail);
  }

 private:
  KeepAliveHandler& handler_;
  const std::shared_ptr<Tcp::Peer>& peer_;
  PeerState& state_;
};

KeepAliveHandler::KeepAliveHandler(std::shared_ptr<Http::Handler> inner, RequestLimits limits,
                                   std::shared_ptr<ServerControl> control, ErrorLog log)
    : inner_(std::move(inner)),
      limits_(limits),
      control_(control ? std::move(control) : std::make_shared<ServerControl>()),
      log_(log ? std::move(log) : ErrorLog(LogHttpError)) {}

KeepAliveHandler::KeepAliveHandler(const KeepAliveHandler& other)
    : Http::Handler(other),
      inner_(std::static_pointer_cast<Http::Handler>(other.inner_->clone())),
      limits_(other.limits_),
      control_(other.control_),
      log_(other.log_) {}

void KeepAliveHandler::onConnection(const std::shared_ptr<Tcp::Peer>& peer) {
  // What Http::Handler::onConnection does, with our size: Pistache's idle/timeout sweep
  // (Http::Handler::getParser) finds the parser under ParserData.
  auto parser = std::make_shared<Http::RequestParser>(MaxBufferedRequestBytes(limits_));
  // Idle until a request is dispatched: Pistache's sweep then closes a connection that never
  // sends anything at the keep-alive timeout, quietly, instead of answering it 408.
  peer->setIdle(true);
  peer->putData(Http::Handler::ParserData, parser);
  auto state = std::make_shared<PeerState>(limits_, control_, std::move(parser));
  auto activity = state->activity;
  peer->putData(kPeerStateKey, std::move(state));
  control_->ConnectionOpened(peer, std::move(activity));
}

std::shared_ptr<KeepAliveHandler::PeerState> KeepAliveHandler::StateOf(
    const std::shared_ptr<Tcp::Peer>& peer) {
  auto state = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey));
  if (!state) {
    onConnection(peer);
    state = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey));
  }
  return state;
}

void KeepAliveHandler::onInput(const char* buffer, size_t len,
                               const std::shared_ptr<Tcp::Peer>& peer) {
  const std::shared_ptr<PeerState> state = StateOf(peer);
  state->activity->Touch();
  Sink sink(*this, peer, *state);
  state->framer.Feed(std::string_view(buffer, len), sink);
}

void KeepAliveHandler::onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) {
  if (auto state = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey))) {
    state->framer.Stop();
    CloseRequest(*state);
  }
  control_->ConnectionClosed(*peer);
  static_cast<Tcp::Handler&>(*inner_).onDisconnection(peer);
}

void KeepAliveHandler::onRequest(const Http::Request& request, Http::ResponseWriter response) {
  inner_->onRequest(request, std::move(response));
}

void KeepAliveHandler::onTimeout(const Http::Request& request, Http::ResponseWriter response) {
  inner_->onTimeout(request, std::move(response));
}

void KeepAliveHandler::ParseAndDispatch(std::string_view bytes,
                                        const std::shared_ptr<Tcp::Peer>& peer, PeerState& state) {
  if (state.dispatched) {
    // Pistache finished the request before the framer did: they disagree on the framing.
    return Refuse(peer, state, 400, "The request could not be parsed.");
  }
  Http::RequestParser& parser = *state.parser;
  if (!parser.feed(bytes.data(), bytes.size())) {
    // The framer keeps each request within the parser's buffer; this is a safety net.
    parser.reset();
    return Refuse(peer, state, 413, "The request is too large.");
  }
  Http::Private::State parsed;
  try {
    parsed = parser.parse();
  } catch (const Http::HttpError& e) {
    // Pistache's parse errors ("Unknown HTTP request method", ...) name no internals.
    parser.reset();
    return Refuse(peer, state, e.code(), e.reason());
  } catch (const std::exception& e) {
    parser.reset();
    log_(std::string("request parser failed: ") + e.what());
    return Refuse(peer, state, 400, "The request could not be parsed.");
  }
  if (parsed == Http::Private::State::Done) Dispatch(peer, state);
}

void KeepAliveHandler::Dispatch(const std::shared_ptr<Tcp::Peer>& peer, PeerState& state) {
  Http::RequestParser& parser = *state.parser;
  Http::Request& request = parser.request;
  const auto connection =
      state.head.persistent ? Http::ConnectionControl::KeepAlive : Http::ConnectionControl::Close;
  request.copyAddress(peer->address());
  bool threw = false;
  {
    Http::ResponseWriter response(request.version(), transport(), this, peer);
    response.headers().add<Http::Header::Connection>(connection);
    peer->setIdle(false);  // ResponseWriter::send sets it back to true
    try {
      inner_->onRequest(request, std::move(response));
    } catch (const std::exception& e) {
      threw = true;
      log_(std::string("unhandled exception from ") + Http::methodString(request.method()) + " " +
           request.resource() + ": " + e.what());
    } catch (...) {
      threw = true;
      log_(std::string("unhandled non-standard exception from ") +
           Http::methodString(request.method()) + " " + request.resource());
    }
  }
  // A route that threw before ResponseWriter::send (SafeRoute never lets one escape) gets a
  // generic 500; Pistache would have sent what() as the body. A route that returns without
  // answering is not detected here: Pistache's own 405 answer does not mark the peer, so the
  // peer's idle flag cannot tell "forgot" from "answered"; SafeRoute handles that case.
  if (threw && !peer->isIdle()) {
    Http::ResponseWriter response(request.version(), transport(), this, peer);
    response.headers().add<Http::Header::Connection>(connection);
    SendScimError(response, Http::Code::Internal_Server_Error, kInternalErrorDetail);
  }
  // The route has answered (SafeRoute routes always do before returning). Mark the peer idle
  // even when the answer did not say so (Pistache's own 405 does not): Pistache's timeout sweep
  // would otherwise send an unsolicited 408 on this keep-alive connection after headerTimeout.
  peer->setIdle(true);
  parser.reset();
  state.dispatched = true;
}

void KeepAliveHandler::Refuse(const std::shared_ptr<Tcp::Peer>& peer, PeerState& state, int status,
                              std::string_view detail) {
  state.framer.Stop();
  state.parser->reset();
  CloseRequest(state);
  Http::ResponseWriter response(ToPistache(state.head.version), transport(), this, peer);
  response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
  SendScimError(response, static_cast<Http::Code>(status), detail);
  CloseAfterWrites(peer, SHUT_WR);
}

void KeepAliveHandler::CloseRequest(PeerState& state) {
  if (state.open) {
    state.open = false;
    state.activity->busy.store(false);
    control_->RequestClosed();
  }
}

void KeepAliveHandler::CloseAfterWrites(const std::shared_ptr<Tcp::Peer>& peer, int how) {
  // Writes to one peer are queued in order, so an empty write resolves after every response
  // queued before it, in the peer's I/O thread, right after a write to its socket succeeded:
  // the fd is open at that point (only that thread closes it). Pistache drops the write, and
  // so this continuation, if the peer is removed first.
  // For a finished exchange, SHUT_WR (not close): the client reads the response, then EOF;
  // Pistache closes the socket when the client closes its side (or at the keep-alive timeout).
  // Closing outright could reset the connection and destroy the response in flight.
  std::weak_ptr<Tcp::Peer> weak = peer;
  peer->send(Pistache::RawBuffer(std::string(), 0))
      .then(
          [weak, how](ssize_t) {
            if (auto alive = weak.lock()) ::shutdown(alive->fd(), how);
          },
          [](std::exception_ptr) {});
}

void ConnectionActivity::Touch() {
  last_input_ns.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                      std::memory_order_relaxed);
  spoke.store(true, std::memory_order_relaxed);
}

void ServerControl::ConnectionOpened(const std::shared_ptr<Tcp::Peer>& peer,
                                     std::shared_ptr<ConnectionActivity> activity) {
  activity->last_input_ns.store(std::chrono::steady_clock::now().time_since_epoch().count());
  std::shared_ptr<Tcp::Peer> victim;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connections_[peer->getID()] = Tracked{peer, std::move(activity)};
    const size_t max = max_connections_.load();
    if (connections_.size() >= prune_at_ || (max > 0 && connections_.size() > max)) {
      std::erase_if(connections_, [](const auto& entry) { return entry.second.peer.expired(); });
      prune_at_ = std::max<size_t>(64, 2 * connections_.size());
    }
    if (max > 0 && connections_.size() > max) victim = PickVictimLocked(peer->getID());
  }
  if (victim) {
    evicted_.fetch_add(1);
    KeepAliveHandler::CloseAfterWrites(victim, SHUT_RDWR);
  }
}

std::shared_ptr<Tcp::Peer> ServerControl::PickVictimLocked(size_t newcomer) {
  const Tracked* best = nullptr;
  for (const auto& [id, tracked] : connections_) {
    const ConnectionActivity& a = *tracked.activity;
    if (id == newcomer || a.busy.load() || a.evicting.load() || tracked.peer.expired()) continue;
    if (best == nullptr) {
      best = &tracked;
      continue;
    }
    const ConnectionActivity& b = *best->activity;
    if (a.spoke.load() != b.spoke.load()) {
      if (!a.spoke.load()) best = &tracked;
    } else if (a.last_input_ns.load() < b.last_input_ns.load()) {
      best = &tracked;
    }
  }
  if (best == nullptr) return nullptr;
  best->activity->evicting.store(true);
  return best->peer.lock();
}

void ServerControl::ConnectionClosed(const Tcp::Peer& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  connections_.erase(peer.getID());
}

size_t ServerControl::open_connections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t open = 0;
  for (const auto& [id, tracked] : connections_) {
    if (!tracked.peer.expired()) ++open;
  }
  return open;
}

size_t ServerControl::CloseConnections() {
  std::vector<std::shared_ptr<Tcp::Peer>> peers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, tracked] : connections_) {
      if (auto peer = tracked.peer.lock()) peers.push_back(std::move(peer));
    }
  }
  for (const auto& peer : peers) KeepAliveHandler::CloseAfterWrites(peer, SHUT_RDWR);
  return peers.size();
}

}  // namespace scim::http
