// HttpClient reuses its curl handles (curl_easy_reset between requests): nothing of one request
// (method, body, headers) may leak into the next one sent on the same handle.
#include "adapters/common/http_client.h"

#include <boost/test/unit_test.hpp>

#include "fake_server.h"

namespace scim::adapters {
namespace {

using testing::FakeServer;
using testing::Requests;
using testing::Str;

BOOST_AUTO_TEST_CASE(reused_handles_start_clean) {
  FakeServer fake("webhook");
  HttpClient client({std::chrono::milliseconds(2000), std::chrono::milliseconds(5000)});
  auto send = [&](const std::string& method, const std::string& path, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest request;
    request.method = method;
    request.url = fake.url() + path;
    request.body = body;
    request.headers = std::move(headers);
    auto response = client.Send(request);
    BOOST_TEST_REQUIRE(response.ok(), method + " " + path);
    BOOST_TEST(response->status > 0);
  };
  // One after the other on one thread: each request takes the handle the previous one gave back.
  for (int round = 0; round < 2; ++round) {
    send("POST", "/p", R"({"a":1})", {{"Content-Type", "application/json"}, {"X-Only-Post", "1"}});
    send("GET", "/g", "", {});
    send("DELETE", "/d", "", {});
    send("PUT", "/u", R"({"b":2})", {{"Content-Type", "application/json"}});
  }
  json::Document state;
  fake.State(state);
  const json::Value& requests = Requests(state);
  BOOST_TEST_REQUIRE(requests.Size() == 8u);
  const char* methods[] = {"POST", "GET", "DELETE", "PUT"};
  const char* paths[] = {"/p", "/g", "/d", "/u"};
  for (rapidjson::SizeType i = 0; i < requests.Size(); ++i) {
    const json::Value& r = requests[i];
    BOOST_TEST(Str(r, "method") == methods[i % 4], i);
    BOOST_TEST(Str(r, "path") == paths[i % 4], i);
    const bool has_body = r.HasMember("body") && !r["body"].IsNull();
    BOOST_TEST(has_body == (i % 4 == 0 || i % 4 == 3), i);
    bool only_post = false;
    for (const auto& h : r["headers"].GetObject()) {
      std::string name(json::View(h.name));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      only_post = only_post || name == "x-only-post";
    }
    BOOST_TEST(only_post == (i % 4 == 0), i);
  }
}

}  // namespace
}  // namespace scim::adapters
