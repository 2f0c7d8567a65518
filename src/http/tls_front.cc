#include "http/tls_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace scim::http {
namespace {

using Clock = std::chrono::steady_clock;

// Plaintext buffered per direction before the front stops reading that side (back-pressure).
constexpr size_t kMaxBuffered = 256 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
constexpr int kListenBacklog = 1024;
// After the HTTP server closed and its last answer went out (close_notify sent), how long the
// client may go on sending (a body the server refused early) before the connection is closed.
constexpr auto kLinger = std::chrono::seconds(2);
// How long accepting pauses when the process has no descriptor left.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

std::mutex address_mutex;
std::unordered_map<uint16_t, std::string> address_by_port;
// address_by_port.size(), readable without the lock: plain-HTTP requests (no relay at all) skip
// the look-up and its lock.
std::atomic<size_t> recorded_addresses{0};

void RecordClientAddress(uint16_t port, std::string address) {
  std::lock_guard<std::mutex> lock(address_mutex);
  address_by_port[port] = std::move(address);
  recorded_addresses.store(address_by_port.size(), std::memory_order_release);
}

void ForgetClientAddress(uint16_t port) {
  std::lock_guard<std::mutex> lock(address_mutex);
  address_by_port.erase(port);
  recorded_addresses.store(address_by_port.size(), std::memory_order_release);
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

Error TlsError(const std::string& what) {
  return Error(ErrorCode::kInvalidValue, "TLS: " + what + ": " + OpenSslErrors());
}

Status LoadClientCa(SSL_CTX* ctx, const std::string& ca_file) {
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    return TlsError("cannot load client CA file " + ca_file);
  }
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str());
  if (names == nullptr) return TlsError("no CA certificate in " + ca_file);
  SSL_CTX_set_client_CA_list(ctx, names);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return OkStatus();
}

Result<CtxPtr> MakeContext(const TlsSettings& settings) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return TlsError("cannot create a context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), settings.cert_file.c_str()) != 1) {
    return TlsError("cannot load certificate " + settings.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), settings.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return TlsError("cannot load private key " + settings.key_file);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return TlsError("the private key " + settings.key_file + " does not match the certificate");
  }
  if (!settings.client_ca_file.empty()) {
    SCIM_RETURN_IF_ERROR(LoadClientCa(ctx.get(), settings.client_ca_file));
  }
  return ctx;
}

std::string AddressText(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, host, sizeof host);
  } else if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, host,
              sizeof host);
  }
  return host;
}

Result<int> Listen(const std::string& address, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(address.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Error(ErrorCode::kUnavailable, "cannot resolve " + address + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(ErrorCode::kUnavailable, std::string("socket: ") + strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, kListenBacklog) != 0) {
    std::string reason = strerror(errno);
    close(fd);
    return Error(ErrorCode::kUnavailable,
                 "cannot listen on " + address + ":" + service + ": " + reason);
  }
  return fd;
}

uint16_t LocalPort(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return 0;
  if (local.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(local).sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in&>(local).sin_port);
}

// One client connection and its relay connection to the HTTP server.
struct Connection {
  uint64_t id = 0;
  int client_fd = -1;
  int backend_fd = -1;
  SSL* ssl = nullptr;
  bool handshaking = true;
  bool connecting = false;
  bool client_eof = false;    // the client sent close_notify or closed
  bool backend_eof = false;   // the HTTP server closed its side
  bool backend_shut = false;  // we half-closed towards the HTTP server
  bool ssl_wants_write = false;
  bool notified_close = false;  // close_notify sent after the HTTP server closed
  Clock::time_point closing_since;
  uint16_t relay_port = 0;
  std::string client_address;
  uint64_t progress = 0;   // counts every transfer and end of stream
  std::string to_backend;  // plaintext from the client
  std::string to_client;   // plaintext from the HTTP server
  Clock::time_point accepted;
  Clock::time_point last_activity;
  uint32_t client_events = 0;
  uint32_t backend_events = 0;
};

constexpr uint64_t kListenKey = 0;
constexpr uint64_t kWakeKey = 1;
uint64_t ClientKey(uint64_t id) { return id << 1; }
uint64_t BackendKey(uint64_t id) { return (id << 1) | 1; }

}  // namespace

class TlsFront::Impl {
 public:
  explicit Impl(TlsFrontOptions options) : options_(std::move(options)) {}
  ~Impl() { Stop(); }

  Status Start();
  uint16_t Port() const { return port_; }
  Status Reload();
  void Stop();
  size_t open_connections() const { return open_.load(); }

 private:
  void Run();
  void Accept();
  void Register(Connection& conn);
  void OnEvent(uint64_t key, uint32_t events);
  void Pump(Connection& conn);
  bool Handshake(Connection& conn);
  bool ConnectBackend(Connection& conn);
  bool ReadClient(Connection& conn);
  bool WriteBackend(Connection& conn);
  bool ReadBackend(Connection& conn);
  bool WriteClient(Connection& conn);
  bool Finished(const Connection& conn) const;
  void UpdateInterest(Connection& conn);
  void SetInterest(int fd, uint64_t key, uint32_t wanted, uint32_t& current);
  void Close(uint64_t id);
  void Sweep();
  bool EvictOne();

  TlsFrontOptions options_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  uint16_t port_ = 0;
  std::mutex ctx_mutex_;
  CtxPtr ctx_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  bool accept_paused_ = false;
  Clock::time_point accept_resume_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
};

Status TlsFront::Impl::Start() {
  // OpenSSL writes to the client's socket with write(2): a client gone mid-answer would raise
  // SIGPIPE and kill the process. Its EPIPE is handled like any other write error.
  std::signal(SIGPIPE, SIG_IGN);
  SCIM_TRY(auto ctx, MakeContext(options_.tls));
  ctx_ = std::move(ctx);
  SCIM_TRY(auto fd, Listen(options_.address, options_.port));
  listen_fd_ = fd;
  port_ = LocalPort(listen_fd_);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event listen_event{EPOLLIN, {.u64 = kListenKey}};
  epoll_event wake_event{EPOLLIN, {.u64 = kWakeKey}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen_event);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake_event);
  thread_ = std::thread([this] { Run(); });
  return OkStatus();
}

Status TlsFront::Impl::Reload() {
  SCIM_TRY(auto ctx, MakeContext(options_.tls));
  std::lock_guard<std::mutex> lock(ctx_mutex_);
  // SSL_new holds a reference to its context: open connections keep the old one alive.
  ctx_ = std::move(ctx);
  return OkStatus();
}

void TlsFront::Impl::Stop() {
  if (thread_.joinable()) {
    stopping_.store(true);
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
    thread_.join();
  }
  std::vector<uint64_t> ids;
  for (const auto& [id, conn] : connections_) ids.push_back(id);
  for (uint64_t id : ids) Close(id);
  for (int* fd : {&listen_fd_, &epoll_fd_, &wake_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

void TlsFront::Impl::Run() {
  std::vector<epoll_event> events(256);
  auto next_sweep = Clock::now() + std::chrono::seconds(1);
  while (!stopping_.load()) {
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 250);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kListenKey) {
        Accept();
      } else if (events[i].data.u64 != kWakeKey) {
        OnEvent(events[i].data.u64, events[i].events);
      }
    }
    auto now = Clock::now();
    if (accept_paused_ && now >= accept_resume_) {
      accept_paused_ = false;
      epoll_event listen_event{EPOLLIN, {.u64 = kListenKey}};
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen_event);
    }
    if (now >= next_sweep) {
      Sweep();
      next_sweep = now + std::chrono::seconds(1);
    }
  }
}

void TlsFront::Impl::Accept() {
  while (!accept_paused_) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &length,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      bool exhausted = errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM;
      if (exhausted && EvictOne()) continue;
      if (exhausted) {
        // No descriptor and nothing to evict: stop listening briefly rather than spin on a
        // readable listening socket.
        accept_paused_ = true;
        accept_resume_ = Clock::now() + kAcceptPause;
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      }
      return;
    }
    while (connections_.size() >= options_.max_connections && EvictOne()) {
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_unique<Connection>();
    {
      std::lock_guard<std::mutex> lock(ctx_mutex_);
      conn->ssl = SSL_new(ctx_.get());
    }
    if (conn->ssl == nullptr) {
      close(fd);
      continue;
    }
    conn->id = ++next_id_;
    conn->client_fd = fd;
    conn->client_address = AddressText(peer);
    conn->accepted = conn->last_activity = Clock::now();
    SSL_set_fd(conn->ssl, fd);
    SSL_set_accept_state(conn->ssl);
    Connection& ref = *conn;
    connections_.emplace(ref.id, std::move(conn));
    open_.store(connections_.size());
    Register(ref);
    Pump(ref);
  }
}

void TlsFront::Impl::Register(Connection& conn) {
  conn.client_events = EPOLLIN;
  epoll_event event{conn.client_events, {.u64 = ClientKey(conn.id)}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, conn.client_fd, &event);
}

void TlsFront::Impl::OnEvent(uint64_t key, uint32_t events) {
  auto it = connections_.find(key >> 1);
  if (it == connections_.end()) return;
  Connection& conn = *it->second;
  if ((key & 1) != 0 && conn.connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(conn.backend_fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return Close(conn.id);
    conn.connecting = false;
  }
  Pump(conn);
}

// Moves bytes in every direction that can make progress, then closes the connection when both
// sides are done, or updates what epoll watches.
void TlsFront::Impl::Pump(Connection& conn) {
  if (conn.handshaking && !Handshake(conn)) return Close(conn.id);
  if (conn.handshaking) return UpdateInterest(conn);
  uint64_t seen = ~uint64_t{0};
  while (seen != conn.progress) {
    seen = conn.progress;
    for (auto step :
         {&Impl::ReadClient, &Impl::WriteBackend, &Impl::ReadBackend, &Impl::WriteClient}) {
      if (!(this->*step)(conn)) return Close(conn.id);
    }
  }
  if (conn.backend_eof && conn.to_client.empty() && !conn.notified_close) {
    // Like the HTTP server's own half-close: the client reads the answer and the close_notify,
    // and may finish sending what it was sending (reading continues, for kLinger at most).
    SSL_shutdown(conn.ssl);
    conn.notified_close = true;
    conn.closing_since = Clock::now();
  }
  if (conn.client_eof && conn.to_backend.empty() && !conn.backend_shut && !conn.connecting) {
    shutdown(conn.backend_fd, SHUT_WR);
    conn.backend_shut = true;
  }
  if (Finished(conn)) return Close(conn.id);
  UpdateInterest(conn);
}

bool TlsFront::Impl::Handshake(Connection& conn) {
  ERR_clear_error();
  int rc = SSL_accept(conn.ssl);
  if (rc == 1) {
    conn.handshaking = false;
    conn.last_activity = Clock::now();
    return ConnectBackend(conn);
  }
  int error = SSL_get_error(conn.ssl, rc);
  conn.ssl_wants_write = error == SSL_ERROR_WANT_WRITE;
  return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
}

bool TlsFront::Impl::ConnectBackend(Connection& conn) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in backend{};
  backend.sin_family = AF_INET;
  backend.sin_port = htons(options_.backend_port);
  backend.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  conn.backend_fd = fd;
  if (connect(fd, reinterpret_cast<sockaddr*>(&backend), sizeof backend) != 0) {
    if (errno != EINPROGRESS) return false;
    conn.connecting = true;
  }
  // The port is bound by connect(); the HTTP server reads no byte before we send one.
  conn.relay_port = LocalPort(fd);
  RecordClientAddress(conn.relay_port, conn.client_address);
  conn.backend_events = EPOLLOUT;
  epoll_event event{conn.backend_events, {.u64 = BackendKey(conn.id)}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  return true;
}

bool TlsFront::Impl::ReadClient(Connection& conn) {
  char buffer[kReadChunk];
  while (!conn.client_eof && conn.to_backend.size() < kMaxBuffered) {
    ERR_clear_error();
    int n = SSL_read(conn.ssl, buffer, sizeof buffer);
    if (n > 0) {
      conn.to_backend.append(buffer, static_cast<size_t>(n));
      ++conn.progress;
      conn.last_activity = Clock::now();
      continue;
    }
    int error = SSL_get_error(conn.ssl, n);
    if (error == SSL_ERROR_WANT_READ) return true;
    if (error == SSL_ERROR_WANT_WRITE) {
      conn.ssl_wants_write = true;
      return true;
    }
    if (error == SSL_ERROR_ZERO_RETURN) {
      conn.client_eof = true;
      ++conn.progress;
      return true;
    }
    return false;  // reset, or a protocol error
  }
  return true;
}

bool TlsFront::Impl::WriteBackend(Connection& conn) {
  if (conn.backend_eof) {
    conn.to_backend.clear();  // the HTTP server has stopped reading this connection
    return true;
  }
  while (!conn.connecting && !conn.to_backend.empty() && !conn.backend_shut) {
    ssize_t n = send(conn.backend_fd, conn.to_backend.data(), conn.to_backend.size(), MSG_NOSIGNAL);
    if (n > 0) {
      conn.to_backend.erase(0, static_cast<size_t>(n));
      ++conn.progress;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    return false;
  }
  return true;
}

bool TlsFront::Impl::ReadBackend(Connection& conn) {
  char buffer[kReadChunk];
  while (!conn.connecting && !conn.backend_eof && conn.to_client.size() < kMaxBuffered) {
    ssize_t n = recv(conn.backend_fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      conn.to_client.append(buffer, static_cast<size_t>(n));
      ++conn.progress;
      conn.last_activity = Clock::now();
      continue;
    }
    if (n == 0) {
      conn.backend_eof = true;
      ++conn.progress;
      return true;
    }
    if (errno == EAGAIN || errno == EINTR) return true;
    return false;
  }
  return true;
}

bool TlsFront::Impl::WriteClient(Connection& conn) {
  conn.ssl_wants_write = false;
  while (!conn.to_client.empty()) {
    ERR_clear_error();
    int n = SSL_write(conn.ssl, conn.to_client.data(), static_cast<int>(conn.to_client.size()));
    if (n > 0) {
      conn.to_client.erase(0, static_cast<size_t>(n));
      ++conn.progress;
      continue;
    }
    int error = SSL_get_error(conn.ssl, n);
    if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
      conn.ssl_wants_write = error == SSL_ERROR_WANT_WRITE;
      return true;
    }
    return false;
  }
  return true;
}

bool TlsFront::Impl::Finished(const Connection& conn) const {
  // The client has left, and the HTTP server has closed too or its last answer and the
  // close_notify were sent. A client that never leaves is closed by Sweep (kLinger).
  return conn.client_eof && (conn.backend_eof || conn.notified_close);
}

void TlsFront::Impl::UpdateInterest(Connection& conn) {
  uint32_t client = 0;
  if (conn.handshaking) {
    client = conn.ssl_wants_write ? EPOLLOUT : EPOLLIN;
  } else {
    if (!conn.client_eof && conn.to_backend.size() < kMaxBuffered) client |= EPOLLIN;
    if (!conn.to_client.empty() || conn.ssl_wants_write) client |= EPOLLOUT;
  }
  SetInterest(conn.client_fd, ClientKey(conn.id), client, conn.client_events);
  if (conn.backend_fd < 0) return;
  uint32_t backend = 0;
  if (conn.connecting) {
    backend = EPOLLOUT;
  } else {
    if (!conn.backend_eof && conn.to_client.size() < kMaxBuffered) backend |= EPOLLIN;
    if (!conn.to_backend.empty() && !conn.backend_shut) backend |= EPOLLOUT;
  }
  SetInterest(conn.backend_fd, BackendKey(conn.id), backend, conn.backend_events);
}

void TlsFront::Impl::SetInterest(int fd, uint64_t key, uint32_t wanted, uint32_t& current) {
  if (wanted == current) return;
  epoll_event event{wanted, {.u64 = key}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  current = wanted;
}

void TlsFront::Impl::Close(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& conn = *it->second;
  if (!conn.handshaking && !conn.notified_close) SSL_shutdown(conn.ssl);  // best effort
  if (conn.ssl != nullptr) SSL_free(conn.ssl);
  // Forget the port before closing: the kernel may give it to the next relay.
  if (conn.relay_port != 0) ForgetClientAddress(conn.relay_port);
  if (conn.backend_fd >= 0) close(conn.backend_fd);
  close(conn.client_fd);
  connections_.erase(it);
  open_.store(connections_.size());
}

void TlsFront::Impl::Sweep() {
  auto now = Clock::now();
  std::vector<uint64_t> expired;
  for (const auto& [id, conn] : connections_) {
    bool handshake_late = conn->handshaking && now - conn->accepted > options_.handshake_timeout;
    bool idle = now - conn->last_activity > options_.idle_timeout;
    bool lingered = conn->notified_close && now - conn->closing_since > kLinger;
    if (handshake_late || idle || lingered) expired.push_back(id);
  }
  for (uint64_t id : expired) Close(id);
}

// Closes the connection idle longest, one still in its handshake (a client that has not said
// anything useful) before any other. False when there is none.
bool TlsFront::Impl::EvictOne() {
  const Connection* victim = nullptr;
  for (const auto& [id, conn] : connections_) {
    if (victim == nullptr) {
      victim = conn.get();
    } else if (conn->handshaking != victim->handshaking) {
      if (conn->handshaking) victim = conn.get();
    } else if (conn->last_activity < victim->last_activity) {
      victim = conn.get();
    }
  }
  if (victim == nullptr) return false;
  Close(victim->id);
  return true;
}

Status CheckTlsSettings(const TlsSettings& settings) {
  SCIM_RETURN_IF_ERROR(MakeContext(settings));
  return OkStatus();
}

Result<std::unique_ptr<TlsFront>> TlsFront::Start(const TlsFrontOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  SCIM_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<TlsFront>(new TlsFront(std::move(impl)));
}

TlsFront::TlsFront(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsFront::~TlsFront() { Stop(); }
uint16_t TlsFront::Port() const { return impl_->Port(); }
Status TlsFront::Reload() { return impl_->Reload(); }
void TlsFront::Stop() { impl_->Stop(); }
size_t TlsFront::open_connections() const { return impl_->open_connections(); }

std::optional<std::string> ClientAddressOf(uint16_t loopback_port) {
  if (recorded_addresses.load(std::memory_order_acquire) == 0) return std::nullopt;
  std::lock_guard<std::mutex> lock(address_mutex);
  auto it = address_by_port.find(loopback_port);
  if (it == address_by_port.end()) return std::nullopt;
  return it->second;
}

}  // namespace scim::http
