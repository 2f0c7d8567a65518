#include "http/request_framer.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "http/scim_path_case.h"

namespace scim::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr size_t kMaxChunkLineBytes = 1024;
// 15 hex digits keep a chunk size below 2^60: no overflow when sizes are added up.
constexpr size_t kMaxChunkSizeDigits = 15;

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.6.2 token characters.
bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Calls `f` on each non-empty, OWS-trimmed element of a comma-separated list.
template <class F>
void ForEachListElement(std::string_view list, F f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = TrimOws(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

bool EndsWithCrlf(std::string_view line) {
  return line.size() >= 2 && line.substr(line.size() - 2) == kCrlf;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

RequestFramer::RequestFramer(RequestLimits limits)
    : limits_(limits), max_buffered_(MaxBufferedRequestBytes(limits)) {}

void RequestFramer::Stop() {
  phase_ = Phase::kStopped;
  in_request_ = false;
  line_ = std::string();
  head_ = std::string();
}

void RequestFramer::Fail(int status, std::string detail, FramerSink& sink) {
  Stop();
  sink.OnError(FramingError{status, std::move(detail)});
}

void RequestFramer::ResetRequest() {
  head_info_ = RequestHead();
  saw_close_ = saw_keep_alive_ = saw_expect_continue_ = false;
  saw_content_length_ = saw_transfer_encoding_ = false;
  chunked_codings_ = 0;
  other_coding_.clear();
  remaining_ = 0;
  body_bytes_ = 0;
  forwarded_ = 0;
  trailer_bytes_ = 0;
}

size_t RequestFramer::LineLimit() const {
  switch (phase_) {
    case Phase::kRequestLine:
    case Phase::kHeaders:
      return limits_.max_head_bytes > head_.size() ? limits_.max_head_bytes - head_.size() : 0;
    case Phase::kTrailers:
      return limits_.max_head_bytes > trailer_bytes_ ? limits_.max_head_bytes - trailer_bytes_ : 0;
    default:
      return kMaxChunkLineBytes;
  }
}

void RequestFramer::Feed(std::string_view input, FramerSink& sink) {
  while (!input.empty() && phase_ != Phase::kStopped) {
    if (phase_ == Phase::kBody || phase_ == Phase::kChunkData) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size()));
      const std::string_view piece = input.substr(0, n);
      input.remove_prefix(n);
      remaining_ -= n;
      if (!Forward(piece, sink)) return;
      if (remaining_ == 0) {
        if (phase_ == Phase::kBody) {
          EndRequest(sink);
        } else {
          phase_ = Phase::kChunkDataEnd;
        }
      }
      continue;
    }
    // Line-oriented phases: collect up to and including the next LF.
    const size_t newline = input.find('\n');
    const size_t take = newline == std::string_view::npos ? input.size() : newline + 1;
    if (line_.size() + take > LineLimit()) {
      switch (phase_) {
        case Phase::kRequestLine:
          return Fail(414, "The request line is longer than the server accepts.", sink);
        case Phase::kHeaders:
        case Phase::kTrailers:
          return Fail(431,
                      "The request header section is larger than " +
                          std::to_string(limits_.max_head_bytes) + " bytes.",
                      sink);
        default:
          return Fail(400, "Malformed chunked request body: chunk line too long.", sink);
      }
    }
    if (line_.empty() && newline != std::string_view::npos) {
      // The whole line is in this read: no copy.
      const std::string_view line = input.substr(0, take);
      input.remove_prefix(take);
      ProcessLine(line, sink);
      continue;
    }
    line_.append(input.data(), take);
    input.remove_prefix(take);
    if (newline == std::string_view::npos) return;
    const std::string line = std::move(line_);
    line_.clear();
    ProcessLine(line, sink);
  }
}

void RequestFramer::ProcessLine(std::string_view line, FramerSink& sink) {
  switch (phase_) {
    case Phase::kRequestLine:
      return ProcessRequestLine(line, sink);
    case Phase::kHeaders:
      return ProcessHeaderLine(line, sink);
    case Phase::kChunkSize:
      return ProcessChunkSize(line, sink);
    case Phase::kChunkDataEnd:
      if (line != kCrlf) {
        return Fail(400, "Malformed chunked request body: chunk data must end with CRLF.", sink);
      }
      if (!Forward(line, sink)) return;
      phase_ = Phase::kChunkSize;
      return;
    case Phase::kTrailers:
      trailer_bytes_ += line.size();
      if (line == kCrlf) {
        // Pistache finishes the request on the last-chunk line, so it goes only now.
        if (!Forward("0\r\n", sink)) return;
        EndRequest(sink);
      }
      // Trailer fields are dropped: nothing in scimd reads them, and Pistache cannot parse them.
      return;
    case Phase::kBody:
    case Phase::kChunkData:
    case Phase::kStopped:
      return;
  }
}

void RequestFramer::ProcessRequestLine(std::string_view line, FramerSink& sink) {
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
  if (line == kCrlf || line == "\n") return;
  if (!EndsWithCrlf(line)) return Fail(400, "The request line must end with CRLF.", sink);
  const std::string_view text = line.substr(0, line.size() - 2);
  const size_t first_space = text.find(' ');
  const size_t last_space = text.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space || first_space == 0) {
    return Fail(400, "Malformed request line.", sink);
  }
  const std::string_view version = text.substr(last_space + 1);
  ResetRequest();
  if (version == "HTTP/1.1") {
    head_info_.version = HttpVersion::kHttp11;
  } else if (version == "HTTP/1.0") {
    head_info_.version = HttpVersion::kHttp10;
  } else if (version.substr(0, 5) == "HTTP/") {
    return Fail(505, "Only HTTP/1.0 and HTTP/1.1 are supported.", sink);
  } else {
    return Fail(400, "Malformed request line.", sink);
  }
  head_.assign(line.data(), line.size());
  // The SCIM endpoint names in their canonical case (/scim/v2/users is /Users): same length,
  // so the head limits are unaffected.
  const size_t target_at = first_space + 1;
  const std::string_view target = text.substr(target_at, last_space - target_at);
  std::string canonical = CanonicalScimTarget(target);
  if (canonical != target) head_.replace(target_at, canonical.size(), canonical);
  phase_ = Phase::kHeaders;
}

void RequestFramer::ProcessHeaderLine(std::string_view line, FramerSink& sink) {
  if (line == kCrlf) {
    head_.append(kCrlf);
    return EndHead(sink);
  }
  if (!EndsWithCrlf(line)) return Fail(400, "Header lines must end with CRLF.", sink);
  if (IsOws(line.front())) {
    return Fail(400, "Obsolete header line folding is not supported.", sink);
  }
  const std::string_view text = line.substr(0, line.size() - 2);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Fail(400, "Malformed header line.", sink);
  }
  const std::string_view name = text.substr(0, colon);
  if (!std::all_of(name.begin(), name.end(), IsTchar)) {
    return Fail(400, "Malformed header field name.", sink);
  }
  const std::string_view value = TrimOws(text.substr(colon + 1));

  if (EqualsIgnoreCase(name, "Connection")) {
    ForEachListElement(value, [this](std::string_view option) {
      if (EqualsIgnoreCase(option, "close")) saw_close_ = true;
      if (EqualsIgnoreCase(option, "keep-alive")) saw_keep_alive_ = true;
    });
  } else if (EqualsIgnoreCase(name, "Content-Length")) {
    if (value.empty() || value.size() > 19 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Fail(400, "Invalid Content-Length.", sink);
    }
    uint64_t length = 0;
    for (char c : value) length = length * 10 + static_cast<uint64_t>(c - '0');
    if (saw_content_length_ && length != head_info_.content_length) {
      return Fail(400, "Conflicting Content-Length headers.", sink);
    }
    saw_content_length_ = true;
    head_info_.content_length = length;
  } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
    saw_transfer_encoding_ = true;
    ForEachListElement(value, [this](std::string_view coding) {
      if (EqualsIgnoreCase(coding, "chunked")) {
        ++chunked_codings_;
      } else if (other_coding_.empty()) {
        other_coding_.assign(coding.substr(0, 64));
      }
    });
  } else if (EqualsIgnoreCase(name, "Expect")) {
    if (EqualsIgnoreCase(value, "100-continue")) saw_expect_continue_ = true;
  }
  head_.append(line);
}

void RequestFramer::EndHead(FramerSink& sink) {
  const bool http11 = head_info_.version == HttpVersion::kHttp11;
  if (saw_transfer_encoding_) {
    if (!http11) {
      // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
      return Fail(400, "Transfer-Encoding is not allowed in HTTP/1.0 requests.", sink);
    }
    if (saw_content_length_) {
      return Fail(400, "Content-Length and Transfer-Encoding must not be sent together.", sink);
    }
    if (!other_coding_.empty()) {
      return Fail(501, "Transfer-Encoding \"" + other_coding_ + "\" is not supported.", sink);
    }
    if (chunked_codings_ != 1) return Fail(400, "Invalid Transfer-Encoding.", sink);
    head_info_.chunked = true;
  }
  if (head_info_.content_length > limits_.max_body_bytes) {
    return Fail(413,
                "The request body of " + std::to_string(head_info_.content_length) +
                    " bytes is larger than the limit of " + std::to_string(limits_.max_body_bytes) +
                    " bytes.",
                sink);
  }
  head_info_.persistent = !saw_close_ && (http11 || saw_keep_alive_);
  head_info_.expect_continue =
      http11 && saw_expect_continue_ && (head_info_.chunked || head_info_.content_length > 0);

  if (!sink.OnHead(head_info_)) {
    Stop();
    return;
  }
  if (phase_ == Phase::kStopped) return;
  in_request_ = true;
  const std::string head = std::move(head_);
  head_ = std::string();
  if (!Forward(head, sink)) return;
  if (head_info_.chunked) {
    phase_ = Phase::kChunkSize;
  } else if (head_info_.content_length > 0) {
    phase_ = Phase::kBody;
    remaining_ = head_info_.content_length;
  } else {
    EndRequest(sink);
  }
}

void RequestFramer::ProcessChunkSize(std::string_view line, FramerSink& sink) {
  if (!EndsWithCrlf(line)) {
    return Fail(400, "Malformed chunked request body: chunk-size line must end with CRLF.", sink);
  }
  const std::string_view text = line.substr(0, line.size() - 2);
  size_t digits = 0;
  uint64_t size = 0;
  while (digits < text.size() && HexValue(text[digits]) >= 0) {
    if (digits == kMaxChunkSizeDigits) {
      return Fail(413, "A request body chunk is too large.", sink);
    }
    size = size * 16 + static_cast<uint64_t>(HexValue(text[digits]));
    ++digits;
  }
  const std::string_view rest = TrimOws(text.substr(digits));
  if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
    return Fail(400, "Malformed chunked request body: invalid chunk size.", sink);
  }
  if (size == 0) {
    phase_ = Phase::kTrailers;
    trailer_bytes_ = 0;
    return;
  }
  body_bytes_ += size;
  if (body_bytes_ > limits_.max_body_bytes) {
    return Fail(413,
                "The request body is larger than the limit of " +
                    std::to_string(limits_.max_body_bytes) + " bytes.",
                sink);
  }
  // Chunk extensions are dropped: Pistache's chunk parser rejects them.
  std::string size_line(text.substr(0, digits));
  size_line.append(kCrlf);
  if (!Forward(size_line, sink)) return;
  phase_ = Phase::kChunkData;
  remaining_ = size;
}

void RequestFramer::EndRequest(FramerSink& sink) {
  in_request_ = false;
  if (head_info_.persistent) {
    phase_ = Phase::kRequestLine;
  } else {
    Stop();
  }
  if (head_.capacity() > 4096) head_ = std::string();
  sink.OnRequestEnd();
}

bool RequestFramer::Forward(std::string_view bytes, FramerSink& sink) {
  if (bytes.empty()) return phase_ != Phase::kStopped;
  forwarded_ += bytes.size();
  if (forwarded_ > max_buffered_) {
    Fail(413,
         "The request is larger than the limit of " + std::to_string(max_buffered_) +
             " bytes (chunked framing included).",
         sink);
    return false;
  }
  sink.OnForward(bytes);
  return phase_ != Phase::kStopped;
}

}  // namespace scim::http
