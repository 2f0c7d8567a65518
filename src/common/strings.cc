#include "scim/common/strings.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <climits>
#include <vector>

namespace scim {
namespace {
char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
}  // namespace

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), LowerAscii);
  return out;
}

std::string FoldCase(std::string_view s) {
  bool ascii =
      std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii || s.size() > static_cast<size_t>(INT32_MAX) / 2) return ToLower(s);
  UErrorCode status = U_ZERO_ERROR;
  // UTF-16 never needs more code units than UTF-8 has bytes. u_strFromUTF8 fails on ill-formed
  // input (it does not substitute U+FFFD), which then falls back to ASCII lower-casing.
  std::vector<UChar> utf16(s.size() + 1);
  int32_t length = 0;
  u_strFromUTF8(utf16.data(), static_cast<int32_t>(utf16.size()), &length, s.data(),
                static_cast<int32_t>(s.size()), &status);
  if (U_FAILURE(status)) return ToLower(s);
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return ToLower(s);
  icu::UnicodeString text(utf16.data(), length);
  icu::UnicodeString folded = nfc->normalize(text, status);
  if (U_FAILURE(status)) return ToLower(s);
  folded.foldCase(U_FOLD_CASE_DEFAULT);
  icu::UnicodeString result = nfc->normalize(folded, status);
  if (U_FAILURE(status)) return ToLower(s);
  std::string out;
  result.toUTF8String(out);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

}  // namespace scim
