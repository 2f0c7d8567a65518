#include "http/url_decode.h"

#include <pistache/http.h>

#include <algorithm>

namespace scim::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 when there is none.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Error(ErrorCode::kBadRequest,
                     "Invalid percent-encoding at offset " + std::to_string(i) +
                         ": '%' must be followed by two hexadecimal digits.");
      }
      if (hi == 0 && lo == 0) {
        return Error(ErrorCode::kBadRequest, "Invalid percent-encoding at offset " +
                                                 std::to_string(i) + ": %00 is not allowed.");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  for (size_t i = 0; i < out.size();) {
    const size_t length = Utf8SequenceLength(out, i);
    if (length == 0) {
      return Error(ErrorCode::kBadRequest,
                   "The decoded text is not valid UTF-8 (byte offset " + std::to_string(i) + ").");
    }
    i += length;
  }
  return out;
}

std::optional<std::string> QueryParams::Get(std::string_view name) const {
  for (const auto& [key, value] : params_) {
    if (key == name) return value;
  }
  return std::nullopt;
}

Result<QueryParams> ParseQueryString(std::string_view raw) {
  if (!raw.empty() && raw.front() == '?') raw.remove_prefix(1);
  QueryParams params;
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    const std::string_view element = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (element.empty()) continue;
    const size_t eq = element.find('=');
    const std::string_view raw_name = element.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : element.substr(eq + 1);
    if (raw_name.empty()) continue;
    Result<std::string> name = DecodeQueryComponent(raw_name);
    if (!name.ok()) return name.error();
    Result<std::string> value = DecodeQueryComponent(raw_value);
    if (!value.ok()) return value.error();
    params.Add(std::move(name).value(), std::move(value).value());
  }
  return params;
}

Result<QueryParams> DecodeQuery(const Pistache::Http::Uri::Query& query) {
  QueryParams params;
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    if (it->first.empty()) continue;
    Result<std::string> name = DecodeQueryComponent(it->first);
    if (!name.ok()) return name.error();
    if (params.Has(*name)) {
      return Error(ErrorCode::kBadRequest,
                   "The query parameter \"" + *name + "\" is given more than once.");
    }
    Result<std::string> value = DecodeQueryComponent(it->second);
    if (!value.ok()) return value.error();
    params.Add(std::move(name).value(), std::move(value).value());
  }
  return params;
}

}  // namespace scim::http
