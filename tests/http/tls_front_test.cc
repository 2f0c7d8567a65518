// TlsFront: relays TLS clients to a plain backend (both directions, large bodies), records the
// client's address per relay port, refuses TLS < 1.2, times out silent handshakes, evicts at the
// connection cap, and reloads its certificate (a bad one leaves the old in place).
#include "http/tls_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace scim::http {
namespace {

using namespace std::chrono_literals;

// A self-signed certificate for 127.0.0.1 in a temporary directory.
struct TestCertificate {
  std::filesystem::path dir;
  std::string cert_file, key_file;

  explicit TestCertificate(const std::string& common_name) {
    dir = std::filesystem::temp_directory_path() /
          ("scimd-tls-test-" + std::to_string(getpid()) + "-" + common_name);
    std::filesystem::create_directories(dir);
    cert_file = (dir / "cert.pem").string();
    key_file = (dir / "key.pem").string();
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    FILE* f = std::fopen(cert_file.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(key_file.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~TestCertificate() { std::filesystem::remove_all(dir); }
};

// A plain TCP backend that echoes every byte and remembers the ports it was connected from.
class EchoBackend {
 public:
  EchoBackend() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    BOOST_REQUIRE(listen(fd_, 64) == 0);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~EchoBackend() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    acceptor_.join();
    for (auto& t : workers_) t.join();
  }
  uint16_t port() const { return port_; }
  std::vector<uint16_t> peer_ports() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peer_ports_;
  }
  // What ClientAddressOf said for each relay when its first bytes arrived.
  std::vector<std::string> seen_addresses() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_addresses_;
  }

 private:
  void RecordSeenAddress(uint16_t port) {
    std::lock_guard<std::mutex> lock(mutex_);
    seen_addresses_.push_back(ClientAddressOf(port).value_or("none"));
  }

  void AcceptLoop() {
    while (true) {
      sockaddr_in peer{};
      socklen_t length = sizeof peer;
      int client = accept(fd_, reinterpret_cast<sockaddr*>(&peer), &length);
      if (client < 0) return;
      const uint16_t port = ntohs(peer.sin_port);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        peer_ports_.push_back(port);
      }
      workers_.emplace_back([this, client, port] {
        char buffer[65536];
        ssize_t n;
        bool first = true;
        while ((n = recv(client, buffer, sizeof buffer, 0)) > 0) {
          // Like the HTTP server: who the client is, asked once its first bytes have arrived
          // (the front records the address before it relays anything).
          if (first) RecordSeenAddress(port);
          first = false;
          if (send(client, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
        }
        close(client);
      });
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::vector<uint16_t> peer_ports_;
  std::vector<std::string> seen_addresses_;
};

int ConnectTcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

// True when the peer closes `fd` within `wait` (recv returns 0 or a reset).
bool ClosedWithin(int fd, std::chrono::milliseconds wait) {
  timeval timeout{static_cast<time_t>(wait.count() / 1000),
                  static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char byte;
  ssize_t n = recv(fd, &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

// A TLS client connection; version bounds as given.
struct TlsClient {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  int fd = -1;
  bool connected = false;

  explicit TlsClient(uint16_t port, int max_version = 0) {
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx, max_version);
    fd = ConnectTcp(port);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    connected = SSL_connect(ssl) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
  }
  std::string PeerCommonName() const {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) return "";
    char name[256] = {0};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    X509_free(cert);
    return name;
  }
  // Sends `data` and reads as many bytes back. One thread interleaves writing and reading (an
  // SSL object must not be used from two threads at once: TLS 1.3 session tickets arrive while
  // the client writes), non-blocking, so that a large echo never dead-locks on full buffers.
  std::string Echo(const std::string& data) {
    const int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
    size_t sent = 0;
    std::string back;
    char buffer[16384];
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (back.size() < data.size() && std::chrono::steady_clock::now() < deadline) {
      bool progress = false;
      if (sent < data.size()) {
        int n = SSL_write(ssl, data.data() + sent,
                          static_cast<int>(std::min<size_t>(data.size() - sent, sizeof buffer)));
        if (n > 0) {
          sent += static_cast<size_t>(n);
          progress = true;
        } else if (!Retryable(n)) {
          break;
        }
      }
      int n = SSL_read(ssl, buffer, sizeof buffer);
      if (n > 0) {
        back.append(buffer, static_cast<size_t>(n));
        progress = true;
      } else if (!Retryable(n)) {
        break;
      }
      if (!progress) {
        pollfd wait{fd, static_cast<short>(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
        poll(&wait, 1, 50);
      }
    }
    fcntl(fd, F_SETFL, flags);
    return back;
  }

 private:
  bool Retryable(int rc) const {
    int error = SSL_get_error(ssl, rc);
    return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
  }
};

struct Fixture {
  TestCertificate cert{"first"};
  EchoBackend backend;
  std::unique_ptr<TlsFront> front;

  void Start(size_t max_connections = 100, std::chrono::milliseconds handshake = 2000ms,
             std::chrono::milliseconds idle = 5000ms) {
    TlsFrontOptions options;
    options.backend_port = backend.port();
    options.tls = {cert.cert_file, cert.key_file, ""};
    options.max_connections = max_connections;
    options.handshake_timeout = handshake;
    options.idle_timeout = idle;
    auto started = TlsFront::Start(options);
    BOOST_REQUIRE(started.ok());
    front = std::move(*started);
  }
};

BOOST_AUTO_TEST_SUITE(tls_front)

BOOST_FIXTURE_TEST_CASE(relays_both_ways_and_records_the_client_address, Fixture) {
  Start();
  TlsClient client(front->Port());
  BOOST_REQUIRE(client.connected);
  BOOST_TEST(client.Echo("hello") == "hello");
  const std::string big(3 * 1024 * 1024 + 17, 'x');  // past the front's buffers: back-pressure
  BOOST_TEST(client.Echo(big).size() == big.size());
  BOOST_TEST(backend.seen_addresses() == std::vector<std::string>{"127.0.0.1"});
  BOOST_TEST(front->open_connections() == 1u);
}

BOOST_FIXTURE_TEST_CASE(forgets_the_address_when_the_relay_closes, Fixture) {
  Start();
  {
    TlsClient client(front->Port());
    BOOST_REQUIRE(client.connected);
    BOOST_TEST(client.Echo("x") == "x");
    BOOST_TEST(ClientAddressOf(backend.peer_ports().at(0)).value_or("") == "127.0.0.1");
  }
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (front->open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  BOOST_TEST(front->open_connections() == 0u);
  BOOST_TEST(!ClientAddressOf(backend.peer_ports().at(0)).has_value());
}

BOOST_FIXTURE_TEST_CASE(refuses_tls_1_1, Fixture) {
  Start();
  TlsClient old(front->Port(), TLS1_1_VERSION);
  BOOST_TEST(!old.connected);
  TlsClient current(front->Port(), TLS1_2_VERSION);
  BOOST_TEST(current.connected);
}

BOOST_FIXTURE_TEST_CASE(closes_a_handshake_that_never_comes, Fixture) {
  Start(100, 300ms);
  int silent = ConnectTcp(front->Port());
  BOOST_TEST(ClosedWithin(silent, 3000ms));
  close(silent);
}

BOOST_FIXTURE_TEST_CASE(evicts_the_silent_connection_at_the_cap, Fixture) {
  Start(2);
  int silent = ConnectTcp(front->Port());
  std::this_thread::sleep_for(50ms);
  TlsClient talker(front->Port());
  BOOST_REQUIRE(talker.connected);
  BOOST_TEST(talker.Echo("a") == "a");
  TlsClient newcomer(front->Port());  // the third: the silent one makes room
  BOOST_REQUIRE(newcomer.connected);
  BOOST_TEST(newcomer.Echo("b") == "b");
  BOOST_TEST(ClosedWithin(silent, 2000ms));
  BOOST_TEST(talker.Echo("c") == "c");
  close(silent);
}

BOOST_FIXTURE_TEST_CASE(reload_takes_a_new_certificate_and_keeps_the_old_on_error, Fixture) {
  Start();
  TlsClient before(front->Port());
  BOOST_REQUIRE(before.connected);
  BOOST_TEST(before.PeerCommonName() == "first");
  TestCertificate second("second");
  std::filesystem::copy_file(second.cert_file, cert.cert_file,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(second.key_file, cert.key_file,
                             std::filesystem::copy_options::overwrite_existing);
  BOOST_REQUIRE(front->Reload().ok());
  TlsClient after(front->Port());
  BOOST_REQUIRE(after.connected);
  BOOST_TEST(after.PeerCommonName() == "second");
  BOOST_TEST(before.Echo("still") == "still");
  std::filesystem::remove(cert.key_file);
  BOOST_TEST(!front->Reload().ok());
  TlsClient still(front->Port());
  BOOST_TEST(still.connected);
  BOOST_TEST(still.PeerCommonName() == "second");
}

BOOST_AUTO_TEST_CASE(check_names_a_missing_file) {
  Status checked = CheckTlsSettings({"/nonexistent/cert.pem", "/nonexistent/key.pem", ""});
  BOOST_REQUIRE(!checked.ok());
  BOOST_TEST(checked.error().detail.find("/nonexistent/cert.pem") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
