#include "app/logging.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <string_view>

namespace scim::app {
namespace {

void AppendJsonString(std::string_view text, spdlog::memory_buf_t& dest) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  dest.append(buffer.GetString(), buffer.GetString() + buffer.GetSize());
}

void AppendUtcTime(std::chrono::system_clock::time_point time, spdlog::memory_buf_t& dest) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  n += static_cast<size_t>(
      std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis)));
  dest.append(text, text + n);
}

bool IsJsonObject(std::string_view text) {
  return text.size() >= 2 && text.front() == '{' && text.back() == '}';
}

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    dest.append(std::string_view("{\"time\":\""));
    AppendUtcTime(msg.time, dest);
    dest.append(std::string_view("\",\"level\":\""));
    dest.append(level.data(), level.data() + level.size());
    dest.push_back('"');
    if (IsJsonObject(text)) {
      if (text.size() > 2) dest.push_back(',');
      dest.append(text.data() + 1, text.data() + text.size());
    } else {
      dest.append(std::string_view(",\"msg\":"));
      AppendJsonString(text, dest);
      dest.push_back('}');
    }
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

}  // namespace

Status ConfigureLogging(const std::string& format) {
  if (format == "json") {
    spdlog::set_formatter(std::make_unique<JsonLineFormatter>());
    return OkStatus();
  }
  if (format == "text" || format.empty()) return OkStatus();
  return Error(ErrorCode::kInvalidValue, "log.format must be json or text, got '" + format + "'");
}

}  // namespace scim::app
