#pragma once
// RequestFramer: an incremental HTTP/1.x request framer. It finds where each request on a
// connection starts and ends (RFC 9112 §6.3) before Pistache's parser sees the bytes. Pistache
// 0.0.5 needs this because its parser (1) throws away whatever follows a complete request in the
// same read, so pipelined requests are lost; (2) decides persistence wrongly (an HTTP/1.1 request
// without "Connection" gets "Connection: Close"); (3) answers a too-large request with a
// plain-text 413 after buffering it; (4) gets chunk boundaries wrong when a chunk's CRLF is split
// across reads. The framer is pure (no I/O, no Pistache), so it is tested byte by byte.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/limits.h"

namespace scim::http {

enum class HttpVersion { kHttp10, kHttp11 };

// What the framer learned from one request head.
struct RequestHead {
  HttpVersion version = HttpVersion::kHttp11;
  // The connection stays open after this request (RFC 9112 §9.3): for HTTP/1.1 unless the
  // Connection header has the "close" option; for HTTP/1.0 only with "keep-alive" (and no
  // "close").
  bool persistent = true;
  // "Expect: 100-continue" on an HTTP/1.1 request that has a body.
  bool expect_continue = false;
  bool chunked = false;
  // The Content-Length; 0 when the body is chunked or there is none.
  uint64_t content_length = 0;
};

// Why the framer refused a request: the HTTP status to answer with (400, 413, 414, 431, 501 or
// 505) and a detail that is safe to show to the client.
struct FramingError {
  int status = 400;
  std::string detail;
};

// Receives what the framer finds, in wire order. Any call may Stop() the framer.
class FramerSink {
 public:
  virtual ~FramerSink() = default;

  // A request head was read and is within the limits. Called before any byte of the request is
  // forwarded. Returning false refuses the request (the sink has answered it); the framer then
  // stops.
  virtual bool OnHead(const RequestHead& head) = 0;

  // Bytes of the current request, in order, for the HTTP parser. Over one request they are: the
  // head exactly as received; then the Content-Length body bytes, or, for a chunked body, each
  // chunk-size line without chunk extensions, the chunk data, the CRLF after the data given in
  // one piece, and the last-chunk line "0\r\n" only once the trailer section has ended
  // (trailer fields are dropped). Leading empty lines before a request are dropped. The total
  // for one request never exceeds MaxBufferedRequestBytes(limits).
  virtual void OnForward(std::string_view bytes) = 0;

  // The last byte of the current request has been forwarded. If the request was not
  // persistent the framer has already stopped.
  virtual void OnRequestEnd() = 0;

  // The request is malformed or over a limit. The framer has stopped; the sink should answer
  // with `error` and close the connection.
  virtual void OnError(const FramingError& error) = 0;
};

// One connection's framer. Not thread-safe: one connection is served by one I/O thread.
class RequestFramer {
 public:
  explicit RequestFramer(RequestLimits limits);

  // Consumes all of `input`, calling `sink` for each event. Input that arrives once the framer
  // has stopped (Stop(), an error, the end of a non-persistent request) is discarded.
  void Feed(std::string_view input, FramerSink& sink);

  // Discards all further input: the connection is being closed.
  void Stop();

  // True once the framer discards its input.
  bool stopped() const { return phase_ == Phase::kStopped; }

  // True between an accepted head (OnHead returned true) and OnRequestEnd / an error.
  bool in_request() const { return in_request_; }

 private:
  enum class Phase {
    kRequestLine,
    kHeaders,
    kBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kStopped,
  };

  size_t LineLimit() const;
  void ProcessLine(std::string_view line, FramerSink& sink);
  void ProcessRequestLine(std::string_view line, FramerSink& sink);
  void ProcessHeaderLine(std::string_view line, FramerSink& sink);
  void EndHead(FramerSink& sink);
  void ProcessChunkSize(std::string_view line, FramerSink& sink);
  void EndRequest(FramerSink& sink);
  // Forwards `bytes` unless that would pass the per-request budget; false once stopped.
  bool Forward(std::string_view bytes, FramerSink& sink);
  void Fail(int status, std::string detail, FramerSink& sink);
  void ResetRequest();

  RequestLimits limits_;
  size_t max_buffered_;
  Phase phase_ = Phase::kRequestLine;
  bool in_request_ = false;

  std::string line_;  // the incomplete line being read
  std::string head_;  // the head read so far
  RequestHead head_info_;
  bool saw_close_ = false;
  bool saw_keep_alive_ = false;
  bool saw_expect_continue_ = false;
  bool saw_content_length_ = false;
  bool saw_transfer_encoding_ = false;
  int chunked_codings_ = 0;   // "chunked" tokens in Transfer-Encoding
  std::string other_coding_;  // the first other transfer coding, if any
  uint64_t remaining_ = 0;    // body or chunk-data bytes still to forward
  uint64_t body_bytes_ = 0;   // decoded body bytes of a chunked request so far
  size_t forwarded_ = 0;      // bytes forwarded for the current request
  size_t trailer_bytes_ = 0;  // bytes of the trailer section so far
};

}  // namespace scim::http
