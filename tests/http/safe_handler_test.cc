// SafeRoute: exceptions never leak what(), a forgotten response is still answered, a response
// already sent is not followed by another; and KeepAliveHandler's own net for unwrapped routes.
#include "http/safe_handler.h"

#include <pistache/router.h>

#include <boost/test/unit_test.hpp>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/headers.h"
#include "http/http_test_support.h"
#include "http/server.h"

namespace scim::http {
namespace {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;
using testing::RawClient;

constexpr const char* kSecret = "SELECT password FROM users -- /var/lib/scimd/db.sqlite";

struct Logs {
  ErrorLog Sink() {
    return [this](std::string_view message) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.emplace_back(message);
    };
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mutex);
    std::string all;
    for (const auto& line : lines) all += line + "\n";
    return all;
  }
  std::mutex mutex;
  std::vector<std::string> lines;
};

struct ThrowingServer {
  ThrowingServer() {
    auto router = std::make_shared<Rest::Router>();
    router->get("/throw", SafeRoute(
                              [](const Rest::Request&, Http::ResponseWriter& response) {
                                response.headers().add<ETag>("W/\"1\"");
                                throw std::runtime_error(kSecret);
                              },
                              logs.Sink()));
    router->get(
        "/throw-int",
        SafeRoute([](const Rest::Request&, Http::ResponseWriter&) { throw 42; }, logs.Sink()));
    router->get("/forget",
                SafeRoute([](const Rest::Request&, Http::ResponseWriter&) {}, logs.Sink()));
    router->get("/answer-then-throw", SafeRoute(
                                          [](const Rest::Request&, Http::ResponseWriter& response) {
                                            response.send(Http::Code::Ok, "fine");
                                            throw std::logic_error("late failure");
                                          },
                                          logs.Sink()));
    // Not wrapped: KeepAliveHandler still keeps what() away from the client.
    router->get("/unwrapped",
                [](const Rest::Request&, Http::ResponseWriter) -> Rest::Route::Result {
                  throw std::runtime_error(kSecret);
                });
    HttpServerOptions options;
    options.log = logs.Sink();
    server = std::make_unique<HttpServer>(options);
    BOOST_REQUIRE(server->Start(router).ok());
  }
  Logs logs;
  std::unique_ptr<HttpServer> server;
};

void ExpectGeneric500(const std::optional<testing::RawResponse>& response) {
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 500);
  BOOST_TEST(response->Header("content-type") == "application/scim+json");
  BOOST_TEST(response->body ==
             "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"500\","
             "\"detail\":\"Internal server error.\"}");
  BOOST_TEST(response->body.find("SELECT") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE(safe_handler)

BOOST_AUTO_TEST_CASE(exception_becomes_generic_500_and_is_logged) {
  ThrowingServer s;
  RawClient client(s.server->Port());
  BOOST_REQUIRE(client.Send("GET /throw HTTP/1.1\r\n\r\n"));
  auto response = client.ReadResponse();
  ExpectGeneric500(response);
  BOOST_TEST(response->Header("etag") == "");  // headers of the failed attempt are dropped
  BOOST_TEST(s.logs.All().find(kSecret) != std::string::npos);
  BOOST_TEST(s.logs.All().find("GET /throw") != std::string::npos);
  // The connection survives.
  BOOST_REQUIRE(client.Send("GET /throw-int HTTP/1.1\r\n\r\n"));
  ExpectGeneric500(client.ReadResponse());
  BOOST_TEST(s.logs.All().find("non-standard exception") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(forgotten_response_is_answered) {
  ThrowingServer s;
  RawClient client(s.server->Port());
  BOOST_REQUIRE(client.Send("GET /forget HTTP/1.1\r\n\r\n"));
  ExpectGeneric500(client.ReadResponse(std::chrono::seconds(2)));
  BOOST_TEST(s.logs.All().find("without sending a response") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(answer_then_throw_sends_one_response) {
  ThrowingServer s;
  RawClient client(s.server->Port());
  BOOST_REQUIRE(client.Send("GET /answer-then-throw HTTP/1.1\r\n\r\nGET /forget HTTP/1.1\r\n\r\n"));
  auto first = client.ReadResponse();
  BOOST_REQUIRE(first);
  BOOST_TEST(first->status == 200);
  BOOST_TEST(first->body == "fine");
  auto second = client.ReadResponse();  // the next response is the next request's
  BOOST_REQUIRE(second);
  BOOST_TEST(second->status == 500);
  BOOST_TEST(s.logs.All().find("late failure") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unwrapped_route_exception_does_not_leak) {
  ThrowingServer s;
  RawClient client(s.server->Port());
  BOOST_REQUIRE(client.Send("GET /unwrapped HTTP/1.1\r\n\r\n"));
  ExpectGeneric500(client.ReadResponse());
  BOOST_TEST(s.logs.All().find(kSecret) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
