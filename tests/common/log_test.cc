// scim::log, the one logging interface: levels, records, the json line format, and the capture
// tests use.

#include "scim/common/log.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "support/test_json.h"

namespace scim::log {
namespace {

struct Line {
  Level level;
  std::string message;
  bool record;
};

// Captures the lines written while it lives.
struct Captured {
  std::vector<Line> lines;
  Captured() {
    SetCaptureForTesting([this](Level level, std::string_view message, bool record) {
      lines.push_back({level, std::string(message), record});
    });
  }
  ~Captured() { SetCaptureForTesting(nullptr); }
};

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(levels_and_records_reach_the_sink) {
  Captured captured;
  Info("scimd listening");
  Warn("database: reconnecting");
  Error("internal error: {not a format}");
  Debug("detail");
  Record(Level::kInfo, R"({"route":"/Users","status":200})");
  BOOST_REQUIRE_EQUAL(captured.lines.size(), 5u);
  BOOST_TEST((captured.lines[0].level == Level::kInfo));
  BOOST_TEST((captured.lines[1].level == Level::kWarning));
  BOOST_TEST((captured.lines[2].level == Level::kError));
  BOOST_TEST(captured.lines[2].message == "internal error: {not a format}");
  BOOST_TEST((captured.lines[3].level == Level::kDebug));
  BOOST_TEST(!captured.lines[0].record);
  BOOST_TEST(captured.lines[4].record);
}

BOOST_AUTO_TEST_CASE(json_line_quotes_a_message) {
  std::string line =
      JsonLine(Level::kWarning, "a \"quoted\" {brace}", false, "2026-12-07T10:00:00.000Z");
  json::Document doc = scim::testing::ParseJson(line);
  BOOST_TEST(std::string(doc["time"].GetString()) == "2026-12-07T10:00:00.000Z");
  BOOST_TEST(std::string(doc["level"].GetString()) == "warning");
  BOOST_TEST(std::string(doc["msg"].GetString()) == "a \"quoted\" {brace}");
}

BOOST_AUTO_TEST_CASE(json_line_merges_a_record) {
  std::string line = JsonLine(Level::kInfo, R"({"route":"/Users","status":200})", true,
                              "2026-12-07T10:00:00.000Z");
  BOOST_TEST(line ==
             R"({"time":"2026-12-07T10:00:00.000Z","level":"info","route":"/Users","status":200})");
  // A plain message that looks like an object is quoted, not merged.
  json::Document plain = scim::testing::ParseJson(
      JsonLine(Level::kInfo, R"({"route":"x"})", false, "2026-12-07T10:00:00.000Z"));
  BOOST_TEST(!plain.HasMember("route"));
  BOOST_TEST(std::string(plain["msg"].GetString()) == R"({"route":"x"})");
  // An empty record adds nothing.
  BOOST_TEST(JsonLine(Level::kError, "{}", true, "t") == R"({"time":"t","level":"error"})");
}

BOOST_AUTO_TEST_CASE(level_names) {
  BOOST_TEST(LevelName(Level::kDebug) == "debug");
  BOOST_TEST(LevelName(Level::kInfo) == "info");
  BOOST_TEST(LevelName(Level::kWarning) == "warning");
  BOOST_TEST(LevelName(Level::kError) == "error");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::log
