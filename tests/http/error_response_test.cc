// The SCIM error body (RFC 7644 §3.12) has one writer, ScimErrorBody; ErrorResponse renders an
// Error through it with the status and scimType of the one ErrorCode table.

#include "http/error_response.h"

#include <boost/test/unit_test.hpp>

#include "support/test_json.h"

namespace scim::http {
namespace {

BOOST_AUTO_TEST_SUITE(error_response)

BOOST_AUTO_TEST_CASE(error_response_writes_the_scim_error_body) {
  HttpResponse r = ErrorResponse(ErrorCode::kNoTarget, "no \"work\" address");
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.body == ScimErrorBody(400, "no \"work\" address", "noTarget"));
  BOOST_TEST(r.body ==
             "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"400\","
             "\"scimType\":\"noTarget\",\"detail\":\"no \\\"work\\\" address\"}");
}

BOOST_AUTO_TEST_CASE(no_scim_type_and_internal_detail_hidden) {
  HttpResponse not_found = ErrorResponse(ErrorCode::kNotFound, "Resource 42 not found");
  json::Document body = scim::testing::ParseJson(not_found.body);
  BOOST_TEST(not_found.status == 404);
  BOOST_TEST(!body.HasMember("scimType"));
  BOOST_TEST(std::string(body["status"].GetString()) == "404");

  HttpResponse internal = ErrorResponse(ErrorCode::kInternal, "SELECT secret FROM tokens");
  BOOST_TEST(internal.status == 500);
  BOOST_TEST(internal.body.find("SELECT") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
