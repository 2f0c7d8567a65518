#include "http/limits.h"

namespace scim::http {

size_t MaxBufferedRequestBytes(const RequestLimits& limits) {
  return limits.max_head_bytes + 2 * limits.max_body_bytes;
}

Pistache::Http::Endpoint::Options& ApplyRequestLimits(Pistache::Http::Endpoint::Options& options,
                                                      const RequestLimits& limits) {
  return options.maxRequestSize(MaxBufferedRequestBytes(limits));
}

}  // namespace scim::http
