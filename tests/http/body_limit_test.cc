// Request size limits: bodies just below and above max_body_bytes, Content-Length and chunked,
// with and without Expect: 100-continue, and the head limit. Too large is a SCIM 413 JSON, not
// Pistache's "Request exceeded maximum buffer size" text.
#include <pistache/endpoint.h>
#include <pistache/router.h>

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>

#include "http/http_test_support.h"
#include "http/limits.h"
#include "http/safe_handler.h"
#include "http/server.h"

namespace scim::http {
namespace {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;
using testing::RawClient;

constexpr size_t kMaxBody = 10000;  // more than Pistache's 4096 default, on purpose

struct LimitServer {
  LimitServer() {
    auto router = std::make_shared<Rest::Router>();
    router->post("/len",
                 SafeRoute([](const Rest::Request& request, Http::ResponseWriter& response) {
                   response.send(Http::Code::Ok, std::to_string(request.body().size()));
                 }));
    HttpServerOptions options;
    options.limits.max_body_bytes = kMaxBody;
    options.limits.max_head_bytes = 2048;
    server = std::make_unique<HttpServer>(options);
    BOOST_REQUIRE(server->Start(router).ok());
  }
  std::unique_ptr<HttpServer> server;
};

std::string Post(size_t body_size) {
  return "POST /len HTTP/1.1\r\nContent-Length: " + std::to_string(body_size) + "\r\n\r\n" +
         std::string(body_size, 'x');
}

std::string Chunked(size_t body_size) {
  std::string wire = "POST /len HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t sent = 0; sent < body_size; sent += 1000) {
    const size_t n = std::min<size_t>(1000, body_size - sent);
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    wire += size_line + std::string(n, 'y') + "\r\n";
  }
  return wire + "0\r\n\r\n";
}

void ExpectScim413(RawClient& client) {
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 413);
  BOOST_TEST(response->Header("content-type") == "application/scim+json");
  BOOST_TEST(response->body.find("\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"]") !=
             std::string::npos);
  BOOST_TEST(response->body.find("\"status\":\"413\"") != std::string::npos);
  BOOST_TEST(response->body.find(std::to_string(kMaxBody)) != std::string::npos, response->body);
  BOOST_TEST(testing::Lower(response->Header("connection")) == "close");
  BOOST_TEST(client.WaitForEof());
}

BOOST_AUTO_TEST_SUITE(body_limit)

BOOST_AUTO_TEST_CASE(content_length_at_the_limit_passes) {
  LimitServer s;
  RawClient client(s.server->Port());
  BOOST_REQUIRE(client.Send(Post(kMaxBody)));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 200);
  BOOST_TEST(response->body == std::to_string(kMaxBody));
  // And the connection is still usable.
  BOOST_REQUIRE(client.Send(Post(kMaxBody - 1)));
  auto again = client.ReadResponse();
  BOOST_REQUIRE(again);
  BOOST_TEST(again->body == std::to_string(kMaxBody - 1));
}

BOOST_AUTO_TEST_CASE(content_length_over_the_limit_is_a_scim_413) {
  LimitServer s;
  RawClient client(s.server->Port());
  BOOST_REQUIRE(client.Send(Post(kMaxBody + 1)));
  ExpectScim413(client);
}

BOOST_AUTO_TEST_CASE(expect_continue_over_the_limit_is_refused_before_the_body) {
  LimitServer s;
  RawClient client(s.server->Port());
  BOOST_REQUIRE(client.Send("POST /len HTTP/1.1\r\nContent-Length: " +
                            std::to_string(kMaxBody + 1) + "\r\nExpect: 100-continue\r\n\r\n"));
  ExpectScim413(client);
}

BOOST_AUTO_TEST_CASE(chunked_bodies_around_the_limit) {
  LimitServer s;
  {
    RawClient client(s.server->Port());
    BOOST_REQUIRE(client.Send(Chunked(kMaxBody)));
    auto response = client.ReadResponse();
    BOOST_REQUIRE(response);
    BOOST_TEST(response->status == 200);
    BOOST_TEST(response->body == std::to_string(kMaxBody));
  }
  {
    RawClient client(s.server->Port());
    BOOST_REQUIRE(client.Send(Chunked(kMaxBody + 1)));
    ExpectScim413(client);
  }
}

BOOST_AUTO_TEST_CASE(head_over_the_limit_is_431) {
  LimitServer s;
  RawClient client(s.server->Port());
  BOOST_REQUIRE(client.Send("POST /len HTTP/1.1\r\nX-Pad: " + std::string(3000, 'p') +
                            "\r\nContent-Length: 0\r\n\r\n"));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 431);
  BOOST_TEST(response->Header("content-type") == "application/scim+json");
  BOOST_TEST(client.WaitForEof());
}

// ApplyRequestLimits alone, on a plain Pistache endpoint (no KeepAliveHandler): a body larger
// than Pistache's 4096-byte default goes through.
BOOST_AUTO_TEST_CASE(apply_request_limits_on_a_plain_endpoint) {
  auto router = std::make_shared<Rest::Router>();
  router->post("/len", [](const Rest::Request& request, Http::ResponseWriter response) {
    response.send(Http::Code::Ok, std::to_string(request.body().size()));
    return Rest::Route::Result::Ok;
  });
  Http::Endpoint endpoint(Pistache::Address("127.0.0.1", Pistache::Port(0)));
  RequestLimits limits;
  limits.max_body_bytes = kMaxBody;
  auto options = Http::Endpoint::options().threads(1);
  endpoint.init(ApplyRequestLimits(options, limits));
  endpoint.setHandler(Rest::Router::handler(router));
  endpoint.serveThreaded();
  {
    RawClient client(endpoint.getPort());
    BOOST_REQUIRE(client.Send("POST /len HTTP/1.1\r\nConnection: keep-alive\r\nContent-Length: " +
                              std::to_string(kMaxBody) + "\r\n\r\n" + std::string(kMaxBody, 'z')));
    auto response = client.ReadResponse();
    BOOST_REQUIRE(response);
    BOOST_TEST(response->status == 200);
    BOOST_TEST(response->body == std::to_string(kMaxBody));
  }
  endpoint.shutdown();
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
