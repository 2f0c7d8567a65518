#pragma once
// Small UTF-8 helpers (header-only), shared by the filter parser and the filter→SQL compiler of
// store: public in common so that neither reaches into the other's private headers.

#include <cstdint>
#include <string>
#include <string_view>

namespace scim {

// Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos when `s` is valid.
inline size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t min;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    } else {
      return i;
    }
    if (s.size() - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

// Appends the UTF-8 encoding of code point `cp` (which must be a valid scalar value).
inline void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The longest prefix of `s` of at most `max_bytes` bytes that does not split a UTF-8 sequence.
inline std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  // Back up over continuation bytes to the start of the sequence that would be cut.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

// The smallest string greater than every string that starts with `prefix`, in byte (= code
// point) order: `prefix` with its last code point incremented (dropping trailing U+10FFFF).
// Empty when there is no such string (empty prefix, or only U+10FFFF). `prefix` must be valid
// UTF-8; the result is valid UTF-8 (surrogates are skipped).
inline std::string Utf8PrefixUpperBound(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    unsigned char lead = static_cast<unsigned char>(s[start]);
    uint32_t cp;
    if (lead < 0x80)
      cp = lead;
    else if ((lead & 0xE0) == 0xC0)
      cp = lead & 0x1F;
    else if ((lead & 0xF0) == 0xE0)
      cp = lead & 0x0F;
    else
      cp = lead & 0x07;
    for (size_t k = start + 1; k < s.size(); ++k) cp = (cp << 6) | (s[k] & 0x3F);
    s.resize(start);
    if (cp >= 0x10FFFF) continue;
    ++cp;
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000;
    AppendUtf8(cp, s);
    return s;
  }
  return s;
}

}  // namespace scim
