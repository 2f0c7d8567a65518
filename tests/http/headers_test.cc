// Response headers reach the wire: the header classes of http/headers.h (Pistache drops raw
// response headers) and the typed ones Pistache has.
#include "http/headers.h"

#include <pistache/router.h>

#include <boost/test/unit_test.hpp>
#include <memory>
#include <sstream>

#include "http/http_test_support.h"
#include "http/safe_handler.h"
#include "http/server.h"

namespace scim::http {
namespace {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;

std::string Written(const Pistache::Http::Header::Header& header) {
  std::ostringstream os;
  header.write(os);
  return os.str();
}

BOOST_AUTO_TEST_SUITE(headers)

BOOST_AUTO_TEST_CASE(values_cannot_split_the_response) {
  BOOST_TEST(Written(ETag("W/\"1\"\r\nSet-Cookie: x=y")) == "W/\"1\"Set-Cookie: x=y");
  BOOST_TEST(Written(WwwAuthenticate("Bearer\trealm=\"a\"\n")) == "Bearer\trealm=\"a\"");
  BOOST_TEST(Written(RetryAfter(std::chrono::seconds(30))) == "30");
  BOOST_TEST(Written(RetryAfter(std::chrono::seconds(-5))) == "0");
  BOOST_TEST(std::string(ETag::Name) == "ETag");
  BOOST_TEST(std::string(WwwAuthenticate::Name) == "WWW-Authenticate");
}

BOOST_AUTO_TEST_CASE(set_header_replaces) {
  Http::Header::Collection headers;
  headers.add<ETag>("W/\"1\"");
  headers.add<ETag>("W/\"2\"");  // Pistache keeps the first one
  BOOST_TEST(headers.get<ETag>()->value() == "W/\"1\"");
  SetHeader<ETag>(headers, "W/\"3\"");
  BOOST_TEST(headers.get<ETag>()->value() == "W/\"3\"");
  SetHeader<RetryAfter>(headers, std::chrono::seconds(7));  // absent before: just added
  BOOST_TEST(headers.get<RetryAfter>()->value() == "7");
}

BOOST_AUTO_TEST_CASE(headers_reach_the_wire) {
  auto router = std::make_shared<Rest::Router>();
  router->get("/h", SafeRoute([](const Rest::Request&, Http::ResponseWriter& response) {
                auto& headers = response.headers();
                headers.add<ETag>("W/\"42\"");
                headers.add<WwwAuthenticate>("Bearer realm=\"scimd\"");
                headers.add<RetryAfter>(std::chrono::seconds(120));
                headers.add<ContentLocation>("https://example.com/scim/v2/Users/1");
                headers.add<RequestId>("req-1");
                headers.add<Http::Header::Location>("https://example.com/scim/v2/Users/1");
                headers.add<Http::Header::CacheControl>(Http::CacheDirective::NoStore);
                // What does not work in Pistache 0.0.5, for contrast: never sent.
                headers.addRaw(Http::Header::Raw("X-Raw", "dropped"));
                response.send(Http::Code::Ok, "{}",
                              Http::Mime::MediaType::fromString("application/scim+json"));
              }));
  HttpServer server(HttpServerOptions{});
  BOOST_REQUIRE(server.Start(router).ok());
  testing::RawClient client(server.Port());
  BOOST_REQUIRE(client.Send("GET /h HTTP/1.1\r\n\r\n"));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 200);
  BOOST_TEST(response->Header("etag") == "W/\"42\"");
  BOOST_TEST(response->Header("www-authenticate") == "Bearer realm=\"scimd\"");
  BOOST_TEST(response->Header("retry-after") == "120");
  BOOST_TEST(response->Header("content-location") == "https://example.com/scim/v2/Users/1");
  BOOST_TEST(response->Header("x-request-id") == "req-1");
  BOOST_TEST(response->Header("location") == "https://example.com/scim/v2/Users/1");
  BOOST_TEST(response->Header("cache-control") == "no-store");
  BOOST_TEST(response->Header("content-type") == "application/scim+json");
  BOOST_TEST(response->Header("x-raw") == "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
