// KeepAliveHandler through a real HttpServer on 127.0.0.1: HTTP/1.1 persistence without a
// Connection header, "close", HTTP/1.0, pipelining, split reads, 100-continue and parse errors.
#include <pistache/router.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>

#include "http/http_test_support.h"
#include "http/safe_handler.h"
#include "http/server.h"

namespace scim::http {
namespace {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;
using testing::RawClient;
using testing::RawResponse;

// A server whose routes echo what they got: GET /echo/:word -> "word", POST /len -> body length.
struct EchoServer {
  explicit EchoServer(RequestLimits limits = RequestLimits()) {
    auto router = std::make_shared<Rest::Router>();
    router->get("/echo/:word",
                SafeRoute([this](const Rest::Request& request, Http::ResponseWriter& response) {
                  ++calls;
                  response.send(Http::Code::Ok, request.param(":word").as<std::string>());
                }));
    router->post(
        "/len", SafeRoute([this](const Rest::Request& request, Http::ResponseWriter& response) {
          ++calls;
          response.send(Http::Code::Ok,
                        std::to_string(request.body().size()) + ":" + request.body().substr(0, 16));
        }));
    HttpServerOptions options;
    options.threads = 1;
    options.limits = limits;
    server = std::make_unique<HttpServer>(options);
    BOOST_REQUIRE(server->Start(router).ok());
    port = server->Port();
  }

  std::atomic<int> calls{0};
  std::unique_ptr<HttpServer> server;
  uint16_t port = 0;
};

BOOST_AUTO_TEST_SUITE(keep_alive)

BOOST_AUTO_TEST_CASE(http11_without_connection_header_stays_open) {
  EchoServer s;
  RawClient client(s.port);
  for (const std::string word : {"one", "two", "three"}) {
    BOOST_REQUIRE(client.Send("GET /echo/" + word + " HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto response = client.ReadResponse();
    BOOST_REQUIRE_MESSAGE(response, "no answer to " << word << " on the same connection");
    BOOST_TEST(response->status == 200);
    BOOST_TEST(response->body == word);
    BOOST_TEST(testing::Lower(response->Header("connection")) == "keep-alive");
  }
  BOOST_TEST(!client.WaitForEof(std::chrono::milliseconds(200)));
  BOOST_TEST(s.calls == 3);
}

BOOST_AUTO_TEST_CASE(connection_close_is_honoured) {
  EchoServer s;
  RawClient client(s.port);
  BOOST_REQUIRE(client.Send("GET /echo/bye HTTP/1.1\r\nConnection: close\r\n\r\n"));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->body == "bye");
  BOOST_TEST(testing::Lower(response->Header("connection")) == "close");
  BOOST_TEST(client.WaitForEof());
}

BOOST_AUTO_TEST_CASE(requests_after_close_are_not_served) {
  EchoServer s;
  RawClient client(s.port);
  BOOST_REQUIRE(
      client.Send("GET /echo/a HTTP/1.1\r\nConnection: close\r\n\r\nGET /echo/b HTTP/1.1\r\n\r\n"));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->body == "a");
  BOOST_TEST(client.WaitForEof());
  BOOST_TEST(client.buffered().empty());
  BOOST_TEST(s.calls == 1);
}

BOOST_AUTO_TEST_CASE(http10_closes_unless_keep_alive) {
  EchoServer s;
  {
    RawClient client(s.port);
    BOOST_REQUIRE(client.Send("GET /echo/old HTTP/1.0\r\n\r\n"));
    auto response = client.ReadResponse();
    BOOST_REQUIRE(response);
    BOOST_TEST(response->status_line.substr(0, 8) == "HTTP/1.0");
    BOOST_TEST(response->body == "old");
    BOOST_TEST(client.WaitForEof());
  }
  {
    RawClient client(s.port);
    for (int i = 0; i < 2; ++i) {
      BOOST_REQUIRE(client.Send("GET /echo/ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      auto response = client.ReadResponse();
      BOOST_REQUIRE(response);
      BOOST_TEST(testing::Lower(response->Header("connection")) == "keep-alive");
    }
    BOOST_TEST(!client.WaitForEof(std::chrono::milliseconds(200)));
  }
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_all_answered_in_order) {
  EchoServer s;
  RawClient client(s.port);
  std::string batch;
  for (int i = 0; i < 5; ++i) batch += "GET /echo/r" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
  batch += "POST /len HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  batch += "GET /echo/last HTTP/1.1\r\n\r\n";
  BOOST_REQUIRE(client.Send(batch));
  for (int i = 0; i < 5; ++i) {
    auto response = client.ReadResponse();
    BOOST_REQUIRE(response);
    BOOST_TEST(response->body == "r" + std::to_string(i));
  }
  auto post = client.ReadResponse();
  BOOST_REQUIRE(post);
  BOOST_TEST(post->body == "3:abc");
  auto last = client.ReadResponse();
  BOOST_REQUIRE(last);
  BOOST_TEST(last->body == "last");
}

BOOST_AUTO_TEST_CASE(requests_split_across_reads) {
  EchoServer s;
  RawClient client(s.port);
  const std::string chunked =
      "POST /len HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nTrailer: 1\r\n\r\n";
  BOOST_REQUIRE(client.SendInPieces("GET /echo/split HTTP/1.1\r\nHost: t\r\n\r\n" + chunked, 3));
  auto first = client.ReadResponse();
  BOOST_REQUIRE(first);
  BOOST_TEST(first->body == "split");
  auto second = client.ReadResponse();
  BOOST_REQUIRE(second);
  BOOST_TEST(second->body == "9:wikipedia");
}

BOOST_AUTO_TEST_CASE(expect_continue_gets_an_interim_response) {
  EchoServer s;
  RawClient client(s.port);
  BOOST_REQUIRE(
      client.Send("POST /len HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client.ReadResponse(std::chrono::milliseconds(2000));
  BOOST_REQUIRE(interim);
  BOOST_TEST(interim->status == 100);
  BOOST_REQUIRE(client.Send("body"));
  auto final_response = client.ReadResponse();
  BOOST_REQUIRE(final_response);
  BOOST_TEST(final_response->status == 200);
  BOOST_TEST(final_response->body == "4:body");
}

BOOST_AUTO_TEST_CASE(parse_errors_get_scim_json_and_close) {
  EchoServer s;
  RawClient client(s.port);
  BOOST_REQUIRE(client.Send("BREW /echo/x HTTP/1.1\r\n\r\n"));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 400);
  BOOST_TEST(response->Header("content-type") == "application/scim+json");
  BOOST_TEST(response->body.find("urn:ietf:params:scim:api:messages:2.0:Error") !=
             std::string::npos);
  BOOST_TEST(response->body.find("\"status\":\"400\"") != std::string::npos);
  BOOST_TEST(testing::Lower(response->Header("connection")) == "close");
  BOOST_TEST(client.WaitForEof());
}

BOOST_AUTO_TEST_CASE(unsupported_version_gets_505) {
  EchoServer s;
  RawClient client(s.port);
  BOOST_REQUIRE(client.Send("GET /echo/x HTTP/3.0\r\n\r\n"));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 505);
  BOOST_TEST(client.WaitForEof());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
