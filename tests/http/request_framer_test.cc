// RequestFramer without sockets: request boundaries, persistence, chunked normalisation, limits,
// and the same result whatever way the input is split into reads.
#include "http/request_framer.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

namespace scim::http {
namespace {

// Records the framer's events as text.
class Recorder : public FramerSink {
 public:
  bool OnHead(const RequestHead& head) override {
    heads.push_back(head);
    current.clear();
    events += "H";
    return accept_heads;
  }
  void OnForward(std::string_view bytes) override { current.append(bytes); }
  void OnRequestEnd() override {
    requests.push_back(current);
    current.clear();
    events += "E";
  }
  void OnError(const FramingError& error) override {
    errors.push_back(error);
    events += "X" + std::to_string(error.status);
  }

  bool accept_heads = true;
  std::string events;
  std::string current;
  std::vector<RequestHead> heads;
  std::vector<std::string> requests;  // forwarded bytes of each completed request
  std::vector<FramingError> errors;
};

RequestLimits Limits(size_t body = 1000, size_t head = 1000) {
  RequestLimits limits;
  limits.max_body_bytes = body;
  limits.max_head_bytes = head;
  return limits;
}

Recorder FeedAll(std::string_view input, RequestLimits limits = Limits()) {
  RequestFramer framer(limits);
  Recorder recorder;
  framer.Feed(input, recorder);
  return recorder;
}

const std::string kGet = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kPostLength = "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
const std::string kPostChunkedWire =
    "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
// What Pistache must see for kPostChunkedWire: no chunk extension, no trailer.
const std::string kPostChunkedForwarded =
    "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\nA\r\n0123456789\r\n0\r\n";

BOOST_AUTO_TEST_SUITE(request_framer)

BOOST_AUTO_TEST_CASE(http11_without_connection_header_is_persistent) {
  Recorder r = FeedAll(kGet);
  BOOST_TEST(r.events == "HE");
  BOOST_REQUIRE_EQUAL(r.heads.size(), 1u);
  BOOST_TEST(r.heads[0].persistent);
  BOOST_TEST(r.requests[0] == kGet);
}

BOOST_AUTO_TEST_CASE(persistence_follows_rfc9112) {
  struct Case {
    std::string head;
    bool persistent;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nconnection: Keep-Alive, Upgrade\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    Recorder r = FeedAll(c.head);
    BOOST_REQUIRE_EQUAL(r.heads.size(), 1u);
    BOOST_TEST(r.heads[0].persistent == c.persistent, c.head);
  }
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_split) {
  Recorder r = FeedAll(kGet + kPostLength + kGet);
  BOOST_TEST(r.events == "HEHEHE");
  BOOST_REQUIRE_EQUAL(r.requests.size(), 3u);
  BOOST_TEST(r.requests[0] == kGet);
  BOOST_TEST(r.requests[1] == kPostLength);
  BOOST_TEST(r.requests[2] == kGet);
  BOOST_TEST(r.heads[1].content_length == 5u);
}

BOOST_AUTO_TEST_CASE(chunked_body_is_normalised) {
  Recorder r = FeedAll(kPostChunkedWire + kGet);
  BOOST_TEST(r.events == "HEHE");
  BOOST_REQUIRE_EQUAL(r.requests.size(), 2u);
  BOOST_TEST(r.requests[0] == kPostChunkedForwarded);
  BOOST_TEST(r.heads[0].chunked);
  BOOST_TEST(r.requests[1] == kGet);
}

BOOST_AUTO_TEST_CASE(every_split_gives_the_same_requests) {
  const std::string stream = "\r\n" + kGet + kPostChunkedWire + kPostLength + kGet;
  const Recorder whole = FeedAll(stream);
  BOOST_REQUIRE_EQUAL(whole.requests.size(), 4u);
  // Two cuts anywhere (all pairs would be O(n^2) feeds of ~200 bytes: cheap enough).
  for (size_t i = 0; i <= stream.size(); ++i) {
    for (size_t j = i; j <= stream.size(); j += 7) {
      RequestFramer framer(Limits());
      Recorder r;
      framer.Feed(std::string_view(stream).substr(0, i), r);
      framer.Feed(std::string_view(stream).substr(i, j - i), r);
      framer.Feed(std::string_view(stream).substr(j), r);
      BOOST_REQUIRE_MESSAGE(r.requests == whole.requests, "cut at " << i << "," << j);
      BOOST_REQUIRE(r.events == whole.events);
    }
  }
  // Byte by byte.
  RequestFramer framer(Limits());
  Recorder r;
  for (char c : stream) framer.Feed(std::string_view(&c, 1), r);
  BOOST_TEST(r.requests == whole.requests);
}

BOOST_AUTO_TEST_CASE(chunk_crlf_is_forwarded_in_one_piece) {
  // Pistache's chunk parser breaks when the CRLF after chunk data is split across reads.
  const std::string wire =
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  RequestFramer framer(Limits());
  struct PieceRecorder : Recorder {
    void OnForward(std::string_view bytes) override {
      pieces.emplace_back(bytes);
      Recorder::OnForward(bytes);
    }
    std::vector<std::string> pieces;
  } r;
  for (char c : wire) framer.Feed(std::string_view(&c, 1), r);
  BOOST_TEST(r.events == "HE");
  bool saw_crlf_piece = false;
  for (const std::string& piece : r.pieces) {
    BOOST_TEST(piece != "\r");
    if (piece == "\r\n") saw_crlf_piece = true;
  }
  BOOST_TEST(saw_crlf_piece);
}

BOOST_AUTO_TEST_CASE(input_after_a_non_persistent_request_is_dropped) {
  RequestFramer framer(Limits());
  Recorder r;
  framer.Feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n" + kGet, r);
  BOOST_TEST(r.events == "HE");
  BOOST_TEST(framer.stopped());
  framer.Feed(kGet, r);
  BOOST_TEST(r.events == "HE");
}

BOOST_AUTO_TEST_CASE(expect_continue_only_with_a_body) {
  Recorder r = FeedAll(
      "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"
      "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
  BOOST_REQUIRE_EQUAL(r.heads.size(), 2u);
  BOOST_TEST(r.heads[0].expect_continue);
  BOOST_TEST(!r.heads[1].expect_continue);
}

BOOST_AUTO_TEST_CASE(body_limit_is_checked_before_the_body) {
  Recorder ok = FeedAll("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'a'));
  BOOST_TEST(ok.events == "HE");
  Recorder too_big = FeedAll("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n");
  BOOST_TEST(too_big.events == "X413");
  BOOST_TEST(too_big.errors[0].detail.find("1000") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(chunked_body_limit) {
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  Recorder ok = FeedAll(head + "3E8\r\n" + std::string(1000, 'a') + "\r\n0\r\n\r\n");
  BOOST_TEST(ok.events == "HE");
  Recorder too_big = FeedAll(head + "3E8\r\n" + std::string(1000, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n");
  BOOST_TEST(too_big.events == "HX413");
  // Tiny chunks: the raw bytes pass MaxBufferedRequestBytes before the decoded body passes 1000.
  std::string tiny = head;
  for (int i = 0; i < 1000; ++i) tiny += "1\r\na\r\n";
  Recorder framing = FeedAll(tiny + "0\r\n\r\n", Limits(1000, 1000));
  BOOST_TEST(framing.events == "HX413");
}

BOOST_AUTO_TEST_CASE(head_limits) {
  Recorder long_line = FeedAll("GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n");
  BOOST_TEST(long_line.events == "X414");
  Recorder big_head = FeedAll("GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  BOOST_TEST(big_head.events == "X431");
  // No line end at all: refused as soon as the limit is passed, not buffered for ever.
  RequestFramer framer(Limits());
  Recorder r;
  for (int i = 0; i < 100; ++i) framer.Feed(std::string(100, 'a'), r);
  BOOST_TEST(r.events == "X414");
}

BOOST_AUTO_TEST_CASE(malformed_framing_is_refused) {
  struct Case {
    std::string wire;
    std::string events;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "X400"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "X501"},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "X400"},
      {"GET / HTTP/2.0\r\n\r\n", "X505"},
      {"GET / FOO/1.1\r\n\r\n", "X400"},
      {"GET HTTP/1.1\r\n\r\n", "X400"},
      {"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "X400"},
      {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", "X400"},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "X400"},
      {"GET / HTTP/1.1\nHost: x\r\n\r\n", "X400"},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "X400"},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "X400"},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "X400"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HX400"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "HX400"},
  };
  for (const Case& c : cases) {
    Recorder r = FeedAll(c.wire);
    BOOST_TEST(r.events == c.events, c.wire);
  }
  // Identical repeated Content-Length values are fine.
  Recorder same = FeedAll("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz");
  BOOST_TEST(same.events == "HE");
}

BOOST_AUTO_TEST_CASE(refused_head_stops_the_framer) {
  RequestFramer framer(Limits());
  Recorder r;
  r.accept_heads = false;
  framer.Feed(kPostLength + kGet, r);
  BOOST_TEST(r.events == "H");
  BOOST_TEST(r.current.empty());
  BOOST_TEST(framer.stopped());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
