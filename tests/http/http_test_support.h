#pragma once
// Test helpers for tests/http: a blocking raw-socket HTTP/1.x client for loopback and a small
// response parser. Raw sockets because the behaviours under test (persistence, pipelining,
// split reads, 100-continue, who closes) are invisible through a high-level client.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace scim::http::testing {

struct RawResponse {
  int status = 0;
  std::string status_line;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;

  // The value of header `lower_name`, or "" when absent.
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

// Parses one response from the front of `buffer` (head + Content-Length body). Returns nullopt
// when `buffer` does not hold a complete response yet; otherwise removes it from `buffer`.
inline std::optional<RawResponse> TakeResponse(std::string& buffer) {
  const size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  RawResponse response;
  std::string_view head(buffer.data(), head_end);
  size_t line_end = head.find("\r\n");
  response.status_line = std::string(head.substr(0, line_end));
  if (response.status_line.size() >= 12)
    response.status = std::stoi(response.status_line.substr(9, 3));
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response.headers[Lower(std::string(line.substr(0, colon)))] = std::string(value);
  }
  size_t body_length = 0;
  if (response.headers.count("content-length")) {
    body_length = std::stoul(response.headers["content-length"]);
  }
  if (buffer.size() < head_end + 4 + body_length) return std::nullopt;
  response.body = buffer.substr(head_end + 4, body_length);
  buffer.erase(0, head_end + 4 + body_length);
  return response;
}

// One TCP connection to 127.0.0.1:port. Throws std::runtime_error when it cannot connect.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("connect failed");
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends all of `bytes`; false when the connection is broken.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Sends `bytes` in pieces of `piece` bytes with a short pause between them, so that the
  // server sees them in separate reads.
  bool SendInPieces(std::string_view bytes, size_t piece) {
    while (!bytes.empty()) {
      const size_t n = std::min(piece, bytes.size());
      if (!Send(bytes.substr(0, n))) return false;
      bytes.remove_prefix(n);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }

  // Reads until one complete response is buffered; nullopt on EOF or timeout first.
  std::optional<RawResponse> ReadResponse(
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto response = TakeResponse(buffer_)) return response;
      if (!ReadSome(deadline)) return std::nullopt;
    }
  }

  // True when the server closes its side (EOF) before `timeout`, with no bytes left unread
  // beyond what is buffered.
  bool WaitForEof(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ReadSome(deadline)) {
    }
    return eof_;
  }

  // Bytes received but not yet returned as a response.
  const std::string& buffered() const { return buffer_; }
  bool eof() const { return eof_; }

 private:
  // Reads what is available (waiting until `deadline`); false on EOF, error or timeout.
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

// True when nothing listens on 127.0.0.1:port any more.
inline bool ConnectionRefused(uint16_t port) {
  try {
    RawClient client(port);
    // Pistache may still accept into a dying listener: a dead server closes at once.
    return client.WaitForEof(std::chrono::milliseconds(500));
  } catch (const std::runtime_error&) {
    return true;
  }
}

}  // namespace scim::http::testing
