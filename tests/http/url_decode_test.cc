// Percent-decoding of path parameters and query values, unit and through Pistache.
#include "http/url_decode.h"

#include <pistache/router.h>

#include <boost/test/unit_test.hpp>
#include <memory>

#include "http/http_test_support.h"
#include "http/safe_handler.h"
#include "http/scim_error.h"
#include "http/server.h"

namespace scim::http {
namespace {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;

BOOST_AUTO_TEST_SUITE(url_decode)

BOOST_AUTO_TEST_CASE(decodes_escapes_and_plus) {
  BOOST_TEST(*DecodeQueryComponent("userName%20eq%20%22bjensen%22") == "userName eq \"bjensen\"");
  BOOST_TEST(*DecodeQueryComponent("a+b%2Bc") == "a b+c");
  BOOST_TEST(*DecodePathSegment("a+b%2Bc") == "a+b+c");
  BOOST_TEST(*DecodePathSegment("%c3%a9t%C3%A9") == "\xc3\xa9t\xc3\xa9");
  BOOST_TEST(*DecodePathSegment("") == "");
  BOOST_TEST(*DecodePathSegment("plain-id_1.2~") == "plain-id_1.2~");
}

BOOST_AUTO_TEST_CASE(malformed_input_is_an_error) {
  for (const char* bad : {"%zz", "%", "%4", "a%g1", "%00", "%ff", "%c3", "%ed%a0%80", "\xff"}) {
    auto decoded = DecodeQueryComponent(bad);
    BOOST_REQUIRE_MESSAGE(!decoded.ok(), bad);
    BOOST_TEST((decoded.error().code == ErrorCode::kBadRequest));
    BOOST_TEST(!decoded.error().detail.empty());
  }
  auto bad = DecodeQueryComponent("ab%zz");
  BOOST_TEST(bad.error().detail.find("offset 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(query_string_parser) {
  auto params = ParseQueryString(
      "?filter=a%20eq%20%22b%22&count=5&&x=1%262&flag&=v&attributes=a&attributes=b");
  BOOST_REQUIRE(params.ok());
  BOOST_TEST(*params->Get("filter") == "a eq \"b\"");
  BOOST_TEST(*params->Get("count") == "5");
  BOOST_TEST(*params->Get("x") == "1&2");
  BOOST_TEST(*params->Get("flag") == "");
  BOOST_TEST(*params->Get("attributes") == "a");
  BOOST_TEST(!params->Has("missing"));
  BOOST_TEST(params->params().size() == 6u);
  BOOST_TEST(!ParseQueryString("filter=%zz").ok());
}

// What Pistache's req.query() gives for the SCIM example, and what DecodeQuery makes of it.
BOOST_AUTO_TEST_CASE(query_and_path_through_pistache) {
  auto router = std::make_shared<Rest::Router>();
  router->get(
      "/Users/:id", SafeRoute([](const Rest::Request& request, Http::ResponseWriter& response) {
        const std::string raw_id = request.param(":id").as<std::string>();
        const std::string raw_filter = request.query().get("filter").value_or("-");
        auto id = DecodePathSegment(raw_id);
        auto query = DecodeQuery(request.query());
        if (!id.ok() || !query.ok()) {
          SendScimError(response, Http::Code::Bad_Request,
                        !id.ok() ? id.error().detail : query.error().detail);
          return;
        }
        response.send(Http::Code::Ok, "raw_id=" + raw_id + "|raw_filter=" + raw_filter + "|id=" +
                                          *id + "|filter=" + query->Get("filter").value_or("-") +
                                          "|count=" + query->Get("count").value_or("-"));
      }));
  HttpServer server(HttpServerOptions{});
  BOOST_REQUIRE(server.Start(router).ok());
  testing::RawClient client(server.Port());
  BOOST_REQUIRE(
      client.Send("GET /Users/a%20b%2Bc+d?filter=a%20eq%20%22b%22&count=5 HTTP/1.1\r\n\r\n"));
  auto response = client.ReadResponse();
  BOOST_REQUIRE(response);
  BOOST_TEST(response->status == 200);
  // Pistache keeps both verbatim ...
  BOOST_TEST(response->body.find("raw_id=a%20b%2Bc+d|raw_filter=a%20eq%20%22b%22|") == 0u);
  // ... and nothing is lost on the way: decoding afterwards gives the intended values.
  BOOST_TEST(response->body.find("|id=a b+c+d|filter=a eq \"b\"|count=5") != std::string::npos,
             response->body);

  BOOST_REQUIRE(client.Send("GET /Users/x?filter=%zz HTTP/1.1\r\n\r\n"));
  auto bad = client.ReadResponse();
  BOOST_REQUIRE(bad);
  BOOST_TEST(bad->status == 400);
  BOOST_TEST(bad->Header("content-type") == "application/scim+json");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
