#pragma once
// The one logging interface of scimd. Every module logs through it; spdlog is behind it, in
// src/common/log.cc (linked PRIVATE by common, so no other module sees spdlog). Lines go to
// stdout, one per call, whole even when threads log at once.
//
// Two formats (config `log.format`, set by the app at start-up): "text", spdlog's default pattern
// ("[time] [level] message"); "json", one JSON object per line with "time" (UTC, ms), "level" and
// "msg". A record (Record(), the access log's) is a JSON object whose fields the json format
// merges into its line instead of quoting it in "msg", so log pipelines can index them; the text
// format prints it as it is.

#include <functional>
#include <string>
#include <string_view>

namespace scim::log {

enum class Level { kDebug, kInfo, kWarning, kError };

enum class Format { kText, kJson };

// Writes `message` at `level`. Messages are plain text: build them with std::string (no format
// string is interpreted, so a message may hold any '{' or '%').
void Write(Level level, std::string_view message);

inline void Debug(std::string_view message) { Write(Level::kDebug, message); }
inline void Info(std::string_view message) { Write(Level::kInfo, message); }
inline void Warn(std::string_view message) { Write(Level::kWarning, message); }
inline void Error(std::string_view message) { Write(Level::kError, message); }

// Writes a structured record: `json_object` is a serialized JSON object ({"route":...}).
void Record(Level level, std::string_view json_object);

// The line format of every later line.
void SetFormat(Format format);

// Lines below `level` are dropped (default kInfo).
void SetLevel(Level level);

// "debug", "info", "warning", "error" (the json format's "level" values).
std::string_view LevelName(Level level);

// The json format's line (without the newline) for a message, or with `record` a JSON object,
// logged at `time` (ISO 8601 UTC, ms).
std::string JsonLine(Level level, std::string_view message, bool record, std::string_view time);

// Tests: receives every line (level, message, record) instead of the log; nullptr restores it.
using Capture = std::function<void(Level, std::string_view message, bool record)>;
void SetCaptureForTesting(Capture capture);

}  // namespace scim::log
