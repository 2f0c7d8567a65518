#include "scim/common/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <strings.h>

#include <cstring>

#include "scim/common/strings.h"

namespace scim::json {
namespace {

// SAX handler that only tracks nesting depth; returning false stops the parse.
class DepthLimiter : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, DepthLimiter> {
 public:
  explicit DepthLimiter(size_t max_depth) : max_depth_(max_depth) {}
  bool Default() { return true; }
  // PostgreSQL cannot store U+0000 in text or JSONB, and it is never meaningful in SCIM data.
  bool String(const char* s, rapidjson::SizeType n, bool) { return CheckString(s, n); }
  bool Key(const char* s, rapidjson::SizeType n, bool) { return CheckString(s, n); }
  bool StartObject() { return Enter(); }
  bool EndObject(rapidjson::SizeType) { return Leave(); }
  bool StartArray() { return Enter(); }
  bool EndArray(rapidjson::SizeType) { return Leave(); }
  bool too_deep() const { return too_deep_; }
  bool has_nul() const { return has_nul_; }
  bool has_surrogate() const { return has_surrogate_; }

 private:
  bool Enter() {
    if (++depth_ > max_depth_) too_deep_ = true;
    return !too_deep_;
  }
  bool Leave() {
    --depth_;
    return true;
  }
  bool CheckString(const char* s, rapidjson::SizeType n) {
    if (std::memchr(s, '\0', n) != nullptr) has_nul_ = true;
    if (HasSurrogate(s, n)) has_surrogate_ = true;
    return !has_nul_ && !has_surrogate_;
  }
  // A decoded string holding a UTF-16 surrogate (ED A0..BF xx): RapidJSON turns an escaped lone
  // low surrogate ("\udfff") into those bytes, which are not UTF-8 (RFC 3629 §3) and would be
  // stored and echoed as such. Raw input bytes are validated by kParseValidateEncodingFlag.
  static bool HasSurrogate(const char* s, size_t n) {
    for (const char* p = s; (p = static_cast<const char*>(std::memchr(p, 0xED, s + n - p)));) {
      if (++p < s + n && static_cast<unsigned char>(*p) >= 0xA0) return true;
    }
    return false;
  }
  size_t max_depth_;
  size_t depth_ = 0;
  bool too_deep_ = false;
  bool has_nul_ = false;
  bool has_surrogate_ = false;
};

constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

}  // namespace

Status Parse(std::string_view text, Document& out, size_t max_depth) {
  DepthLimiter limiter(max_depth);
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(text.data(), text.size());
  reader.Parse<kParseFlags>(stream, limiter);
  if (limiter.too_deep()) {
    return Error(ErrorCode::kInvalidSyntax,
                 "JSON nesting deeper than " + std::to_string(max_depth) + " levels");
  }
  if (limiter.has_nul()) {
    return Error(ErrorCode::kInvalidValue, "JSON strings must not contain the NUL character");
  }
  if (limiter.has_surrogate()) {
    return Error(ErrorCode::kInvalidSyntax,
                 "malformed JSON: a \\u escape encodes an unpaired UTF-16 surrogate");
  }
  out.Parse<kParseFlags>(text.data(), text.size());
  if (out.HasParseError()) {
    return Error(ErrorCode::kInvalidSyntax, std::string("malformed JSON at offset ") +
                                                std::to_string(out.GetErrorOffset()) + ": " +
                                                rapidjson::GetParseError_En(out.GetParseError()));
  }
  return OkStatus();
}

std::string Serialize(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const Value* FindMemberCI(const Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    if (EqualsIgnoreCase(View(it->name), name)) return &it->value;
  }
  return nullptr;
}

Value* FindMemberCI(Value& object, std::string_view name) {
  return const_cast<Value*>(FindMemberCI(static_cast<const Value&>(object), name));
}

int RemoveMemberCI(Value& object, std::string_view name) {
  if (!object.IsObject()) return 0;
  int removed = 0;
  for (auto it = object.MemberBegin(); it != object.MemberEnd();) {
    if (EqualsIgnoreCase(View(it->name), name)) {
      it = object.EraseMember(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace scim::json
