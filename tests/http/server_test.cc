// HttpServer: ephemeral port, start errors, shutdown (idempotent, closes connections, drains
// the requests already accepted).
#include "http/server.h"

#include <dirent.h>
#include <pistache/router.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "http/http_test_support.h"
#include "http/safe_handler.h"

namespace scim::http {
namespace {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;
using testing::RawClient;

std::shared_ptr<Rest::Router> HelloRouter(std::atomic<int>* slow_calls = nullptr) {
  auto router = std::make_shared<Rest::Router>();
  router->get("/x", SafeRoute([](const Rest::Request&, Http::ResponseWriter& response) {
                response.send(Http::Code::Ok, "hello\n");
              }));
  router->get("/slow",
              SafeRoute([slow_calls](const Rest::Request&, Http::ResponseWriter& response) {
                if (slow_calls != nullptr) ++*slow_calls;
                std::this_thread::sleep_for(std::chrono::milliseconds(400));
                response.send(Http::Code::Ok, "slow\n");
              }));
  return router;
}

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(ephemeral_port_serves) {
  HttpServer server(HttpServerOptions{});
  BOOST_TEST(server.Port() == 0);
  BOOST_REQUIRE(server.Start(HelloRouter()).ok());
  BOOST_TEST(server.Port() != 0);
  RawClient client(server.Port());
  BOOST_REQUIRE(client.Send("GET /x HTTP/1.1\r\n\r\n"));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->body == "hello\n");
}

BOOST_AUTO_TEST_CASE(start_errors) {
  HttpServer first(HttpServerOptions{});
  BOOST_REQUIRE(first.Start(HelloRouter()).ok());
  auto twice = first.Start(HelloRouter());
  BOOST_REQUIRE(!twice.ok());
  BOOST_TEST((twice.error().code == ErrorCode::kInternal));

  HttpServerOptions taken;
  taken.port = first.Port();
  HttpServer second(taken);
  auto busy = second.Start(HelloRouter());
  BOOST_REQUIRE(!busy.ok());
  BOOST_TEST((busy.error().code == ErrorCode::kUnavailable));
  BOOST_TEST(busy.error().detail.find(std::to_string(first.Port())) != std::string::npos);
  second.Shutdown();  // harmless on a server that never started

  HttpServerOptions bad_address;
  bad_address.address = "no-such-host.invalid";
  HttpServer third(bad_address);
  BOOST_TEST(!third.Start(HelloRouter()).ok());
}

BOOST_AUTO_TEST_CASE(shutdown_closes_idle_connections_and_is_idempotent) {
  HttpServer server(HttpServerOptions{});
  BOOST_REQUIRE(server.Start(HelloRouter()).ok());
  const uint16_t port = server.Port();
  RawClient client(port);
  BOOST_REQUIRE(client.Send("GET /x HTTP/1.1\r\n\r\n"));
  BOOST_REQUIRE(client.ReadResponse());
  const auto start = std::chrono::steady_clock::now();
  server.Shutdown();
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(2)));
  server.Shutdown();
  BOOST_TEST(client.WaitForEof(std::chrono::seconds(2)));
  BOOST_TEST(testing::ConnectionRefused(port));
}

int OpenFds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count;
}

// Pistache's Endpoint::shutdown() alone leaves every client socket open (leaked fd, client
// waiting); HttpServer closes them. Pistache's own few internal fds leak either way.
BOOST_AUTO_TEST_CASE(shutdown_leaks_no_connection_fd) {
  const auto leaked_with = [](int connections) {
    const int before = OpenFds();
    {
      HttpServer server(HttpServerOptions{});
      BOOST_REQUIRE(server.Start(HelloRouter()).ok());
      std::vector<std::unique_ptr<RawClient>> clients;
      for (int i = 0; i < connections; ++i) {
        clients.push_back(std::make_unique<RawClient>(server.Port()));
        BOOST_REQUIRE(clients.back()->Send("GET /x HTTP/1.1\r\n\r\n"));
        BOOST_REQUIRE(clients.back()->ReadResponse());
      }
      server.Shutdown();
      for (auto& client : clients) BOOST_TEST(client->WaitForEof(std::chrono::seconds(2)));
    }
    return OpenFds() - before;
  };
  const int pistache_internal = leaked_with(0);
  BOOST_TEST(leaked_with(8) == pistache_internal);
}

BOOST_AUTO_TEST_CASE(shutdown_drains_the_request_in_flight) {
  std::atomic<int> slow_calls{0};
  HttpServerOptions options;
  options.threads = 1;
  HttpServer server(options);
  BOOST_REQUIRE(server.Start(HelloRouter(&slow_calls)).ok());
  RawClient in_flight(server.Port());
  BOOST_REQUIRE(in_flight.Send("GET /slow HTTP/1.1\r\n\r\n"));
  while (slow_calls == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  auto stopped =
      std::async(std::launch::async, [&server] { server.Shutdown(std::chrono::seconds(3)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // A request that arrives while draining is refused, not served.
  RawClient late(server.Port());
  late.Send("GET /slow HTTP/1.1\r\n\r\n");

  auto response = in_flight.ReadResponse(std::chrono::seconds(3));
  BOOST_REQUIRE_MESSAGE(response, "the in-flight response was lost");
  BOOST_TEST(response->status == 200);
  BOOST_TEST(response->body == "slow\n");
  stopped.get();
  BOOST_TEST(slow_calls == 1);
  auto refused = late.ReadResponse(std::chrono::seconds(1));
  if (refused) BOOST_TEST(refused->status == 503);  // or closed before it was read at all
}

BOOST_AUTO_TEST_CASE(shutdown_without_drain_does_not_wait) {
  HttpServer server(HttpServerOptions{});
  BOOST_REQUIRE(server.Start(HelloRouter()).ok());
  const auto start = std::chrono::steady_clock::now();
  server.Shutdown(std::chrono::milliseconds(0));
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(1)));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
