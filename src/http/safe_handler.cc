#include "http/safe_handler.h"

#include <exception>
#include <string>
#include <utility>

#include "http/scim_error.h"

namespace scim::http {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;

Rest::Route::Handler SafeRoute(RouteBody body, ErrorLog log) {
  if (!log) log = LogHttpError;
  return [body = std::move(body), log = std::move(log)](const Rest::Request& request,
                                                        Http::ResponseWriter response) {
    bool threw = false;
    std::string what;
    try {
      body(request, response);
    } catch (const std::exception& e) {
      threw = true;
      what = e.what();
    } catch (...) {
      threw = true;
      what = "non-standard exception";
    }
    // ResponseWriter counts the bytes it has put on the wire; 0 means no send() went out.
    const bool answered = response.getResponseSize() > 0;
    if (!threw && answered) return Rest::Route::Result::Ok;

    const std::string route =
        std::string(Http::methodString(request.method())) + " " + request.resource();
    if (threw) {
      log("route " + route + " threw" + (answered ? " after answering: " : ": ") + what);
    } else {
      log("route " + route + " returned without sending a response");
    }
    if (!answered) {
      auto connection = response.headers().tryGet<Http::Header::Connection>();
      response.headers().clear();
      if (connection) response.headers().add(connection);
      SendScimError(response, Http::Code::Internal_Server_Error, kInternalErrorDetail);
    }
    return Rest::Route::Result::Ok;
  };
}

}  // namespace scim::http
