#include "scim/common/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <utility>

namespace scim::log {
namespace {

// Set while Record() hands its JSON object to spdlog; the json formatter runs on the same thread
// (the logger is synchronous) and merges the object's fields instead of quoting it.
thread_local bool g_writing_record = false;

std::mutex g_capture_mutex;
Capture g_capture;  // guarded by g_capture_mutex
std::atomic<bool> g_capturing{false};

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarning:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

Level FromSpdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return Level::kDebug;
    case spdlog::level::info:
      return Level::kInfo;
    case spdlog::level::warn:
      return Level::kWarning;
    default:
      return Level::kError;
  }
}

void AppendJsonString(std::string_view text, std::string& dest) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  dest.append(buffer.GetString(), buffer.GetSize());
}

std::string UtcTime(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  n += static_cast<size_t>(
      std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis)));
  return std::string(text, n);
}

bool IsJsonObject(std::string_view text) {
  return text.size() >= 2 && text.front() == '{' && text.back() == '}';
}

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string line =
        JsonLine(FromSpdlog(msg.level), std::string_view(msg.payload.data(), msg.payload.size()),
                 g_writing_record, UtcTime(msg.time));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

void Emit(Level level, std::string_view message, bool record) {
  if (g_capturing.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(g_capture_mutex);
    if (g_capture) {
      g_capture(level, message, record);
      return;
    }
  }
  g_writing_record = record;
  spdlog::log(ToSpdlog(level), "{}", message);
  g_writing_record = false;
}

}  // namespace

void Write(Level level, std::string_view message) { Emit(level, message, false); }

void Record(Level level, std::string_view json_object) { Emit(level, json_object, true); }

void SetFormat(Format format) {
  if (format == Format::kJson) {
    spdlog::set_formatter(std::make_unique<JsonLineFormatter>());
  } else {
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>());
  }
}

void SetLevel(Level level) { spdlog::set_level(ToSpdlog(level)); }

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "error";
}

std::string JsonLine(Level level, std::string_view message, bool record, std::string_view time) {
  std::string line;
  line.append("{\"time\":\"").append(time).append("\",\"level\":\"").append(LevelName(level));
  line.push_back('"');
  if (record && IsJsonObject(message)) {
    if (message.size() > 2) line.push_back(',');
    line.append(message.data() + 1, message.size() - 1);
  } else {
    line.append(",\"msg\":");
    AppendJsonString(message, line);
    line.push_back('}');
  }
  return line;
}

void SetCaptureForTesting(Capture capture) {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  g_capture = std::move(capture);
  g_capturing.store(static_cast<bool>(g_capture), std::memory_order_release);
}

}  // namespace scim::log
