#include "http/scim_error.h"

#include "http/error_response.h"
#include "http/headers.h"

namespace scim::http {

Pistache::Async::Promise<ssize_t> SendScimError(Pistache::Http::ResponseWriter& response,
                                                Pistache::Http::Code code, std::string_view detail,
                                                std::string_view scim_type) {
  AddProtectiveHeaders(response.headers());
  static const Pistache::Http::Mime::MediaType kScimJson =
      Pistache::Http::Mime::MediaType::fromString(std::string(kScimMediaType));
  return response.send(code, ScimErrorBody(static_cast<int>(code), detail, scim_type), kScimJson);
}

}  // namespace scim::http
