#pragma once
// Response header classes that Pistache 0.0.5 lacks. Pistache never writes raw response headers
// (ResponseWriter::headers().addRaw(...) is silently dropped, upstream issues #92 and #967): a
// header reaches the wire only as a Header class. Use them as
//   response.headers().add<scim::http::ETag>("W/\"3\"");
// Pistache already has classes for Location, Cache-Control, Content-Type and Allow
// (Pistache::Http::Header::Location, ::CacheControl, ...).
// Note: Header::Collection::add keeps the first header of a name and silently ignores later
// ones; SetHeader replaces.

#include <pistache/http_header.h>
#include <pistache/http_headers.h>

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace scim::http {

// A header whose value is one string, written as given. Control characters (CR, LF, NUL, ...;
// HTAB is kept) are removed from the value, so a value can never split the response.
class TextHeader : public Pistache::Http::Header::Header {
 public:
  TextHeader() = default;
  explicit TextHeader(std::string_view value) { Assign(value); }

  void parse(const std::string& data) override { Assign(data); }
  void parseRaw(const char* str, size_t len) override { Assign(std::string_view(str, len)); }
  void write(std::ostream& os) const override { os << value_; }

  const std::string& value() const { return value_; }

 private:
  void Assign(std::string_view value) {
    value_.clear();
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7f) {
        value_.push_back(c);
      } else if (c == '\t') {
        value_.push_back(c);
      }
    }
  }

  std::string value_;
};

// ETag (RFC 9110 §8.8.3), the resource version as SCIM puts it in meta.version, e.g. W/"3".
class ETag final : public TextHeader {
 public:
  NAME("ETag")
  using TextHeader::TextHeader;
};

// WWW-Authenticate (RFC 9110 §11.6.1), e.g. Bearer realm="scimd" on a 401.
class WwwAuthenticate final : public TextHeader {
 public:
  NAME("WWW-Authenticate")
  using TextHeader::TextHeader;
};

// Retry-After (RFC 9110 §10.2.3) in seconds, on a 429 or 503.
class RetryAfter final : public TextHeader {
 public:
  NAME("Retry-After")
  using TextHeader::TextHeader;
  explicit RetryAfter(std::chrono::seconds delay)
      : TextHeader(std::to_string(delay.count() < 0 ? 0 : delay.count())) {}
};

// Headers of the console's static files (GET /console/...), besides the protective ones below.
class ContentSecurityPolicy final : public TextHeader {
 public:
  NAME("Content-Security-Policy")
  using TextHeader::TextHeader;
};
class ReferrerPolicy final : public TextHeader {
 public:
  NAME("Referrer-Policy")
  using TextHeader::TextHeader;
};
class XFrameOptions final : public TextHeader {
 public:
  NAME("X-Frame-Options")
  using TextHeader::TextHeader;
};

// Content-Location (RFC 9110 §8.7), for a response body that is the resource at that URI.
class ContentLocation final : public TextHeader {
 public:
  NAME("Content-Location")
  using TextHeader::TextHeader;
};

// X-Request-Id: the id under which a request is logged, echoed so that clients can quote it.
class RequestId final : public TextHeader {
 public:
  NAME("X-Request-Id")
  using TextHeader::TextHeader;
};

// Allow (RFC 9110 §10.2.1): the methods a path supports, on a 405.
class AllowMethods final : public TextHeader {
 public:
  NAME("Allow")
  using TextHeader::TextHeader;
};

// X-Content-Type-Options: nosniff, on every response.
class XContentTypeOptions final : public TextHeader {
 public:
  NAME("X-Content-Type-Options")
  using TextHeader::TextHeader;
};

// Cache-Control as one string ("no-store"): Pistache's own class writes directive lists only.
class CacheControlText final : public TextHeader {
 public:
  NAME("Cache-Control")
  using TextHeader::TextHeader;
};

// Adds the headers every scimd response carries: identity data is never cached by a browser or
// proxy (Cache-Control: no-store) and never content-sniffed (X-Content-Type-Options: nosniff).
inline void AddProtectiveHeaders(Pistache::Http::Header::Collection& headers) {
  headers.remove<XContentTypeOptions>();
  headers.add<XContentTypeOptions>("nosniff");
  headers.remove<CacheControlText>();
  headers.add<CacheControlText>("no-store");
}

// Adds header H built from `args` to `headers`, replacing any header of the same name.
template <class H, class... Args>
void SetHeader(Pistache::Http::Header::Collection& headers, Args&&... args) {
  headers.remove<H>();
  headers.add<H>(std::forward<Args>(args)...);
}

}  // namespace scim::http
