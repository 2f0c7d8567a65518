#pragma once
// Request size limits, and how they map onto Pistache's one knob (maxRequestSize, which counts
// the request line, the headers and the body together, and is 4096 bytes by default).

#include <pistache/endpoint.h>

#include <cstddef>

namespace scim::http {

struct RequestLimits {
  // Largest request body accepted, after chunked decoding. Larger bodies get a SCIM 413.
  size_t max_body_bytes = 1024 * 1024;
  // Largest request head (request line + headers + blank line). Larger heads get a SCIM 431.
  size_t max_head_bytes = 16 * 1024;
};

// How many raw bytes of one request Pistache's parser must be able to hold so that it never
// refuses a request that `limits` accept: head + body + as much again as the body for chunked
// framing (chunk-size lines and CRLFs). The RequestFramer refuses (413) any request whose raw
// bytes would exceed this, so Pistache's own plain-text 413 is never reached.
size_t MaxBufferedRequestBytes(const RequestLimits& limits);

// Sets options.maxRequestSize(MaxBufferedRequestBytes(limits)) and returns `options`. Enough on
// its own for a plain Pistache handler (whose 413 is then Pistache's text); KeepAliveHandler also
// enforces `limits` itself and answers with SCIM error JSON.
Pistache::Http::Endpoint::Options& ApplyRequestLimits(Pistache::Http::Endpoint::Options& options,
                                                      const RequestLimits& limits);

}  // namespace scim::http
