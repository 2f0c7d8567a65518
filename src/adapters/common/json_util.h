#pragma once
// Small JSON helpers for request bodies and answers.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <string_view>

#include "scim/common/json.h"

namespace scim::adapters {

// Compact JSON writer for request bodies: `JsonWriter w; w.StartObject(); ...; w.Text()`.
class JsonWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  JsonWriter() : rapidjson::Writer<rapidjson::StringBuffer>(buffer_) {}
  // Writes `"key": "value"`.
  void Field(std::string_view key, std::string_view value) {
    Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  void Field(std::string_view key, int64_t value) {
    Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    Int64(value);
  }
  void Field(std::string_view key, bool value) {
    Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    Bool(value);
  }
  void Field(std::string_view key, const char* value) { Field(key, std::string_view(value)); }
  // Writes `"key": ` and leaves the value to the caller.
  void KeyOnly(std::string_view key) {
    Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  }
  std::string Text() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
};

// An id that may arrive as a JSON string or number ("42" or 42) as text; nullopt otherwise.
inline std::optional<std::string> IdText(const json::Value& v) {
  if (v.IsString() && v.GetStringLength() > 0) return std::string(json::View(v));
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  return std::nullopt;
}

// The member `name` of object `v` as an id (see IdText).
inline std::optional<std::string> IdMember(const json::Value& v, const char* name) {
  if (!v.IsObject()) return std::nullopt;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd()) return std::nullopt;
  return IdText(it->value);
}

// The member `name` of object `v` as a string; nullopt when absent or not a string.
inline std::optional<std::string> StringMember(const json::Value& v, const char* name) {
  if (!v.IsObject()) return std::nullopt;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(json::View(it->value));
}

}  // namespace scim::adapters
