#include "scim/common/clock.h"

#include <cstdio>
#include <ctime>

namespace scim {
namespace {

bool ReadDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Parses "[+-]hh:mm" or "Z" at s[pos..]; returns the offset in seconds east of UTC.
bool ReadZone(std::string_view s, size_t pos, long& offset_seconds) {
  if (pos == s.size() - 1 && (s[pos] == 'Z' || s[pos] == 'z')) {
    offset_seconds = 0;
    return true;
  }
  int hh, mm;
  if (s.size() != pos + 6 || (s[pos] != '+' && s[pos] != '-') || s[pos + 3] != ':') return false;
  if (!ReadDigits(s, pos + 1, 2, hh) || !ReadDigits(s, pos + 4, 2, mm) || hh > 23 || mm > 59) {
    return false;
  }
  offset_seconds = (hh * 3600L + mm * 60L) * (s[pos] == '-' ? -1 : 1);
  return true;
}

// Milliseconds since the epoch as a canonical timestamp (no nanosecond clock involved, so dates
// past 2262 such as "9999-12-31T23:59:59Z" do not overflow).
std::string FormatMillis(long long ms) {
  long long floor_secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);  // dates before 1970 too
  int millis = static_cast<int>(ms - floor_secs * 1000);
  std::time_t secs = static_cast<std::time_t>(floor_secs);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                millis);
  return buf;
}

}  // namespace

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  return FormatMillis(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

std::string NowTimestamp() { return FormatTimestamp(std::chrono::system_clock::now()); }

std::optional<std::string> NormalizeTimestamp(std::string_view s) {
  std::tm tm{};
  int year, mon, day, hh, mi, ss;
  if (!ReadDigits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, mon) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !ReadDigits(s, 11, 2, hh) || s[13] != ':' || !ReadDigits(s, 14, 2, mi) || s[16] != ':' ||
      !ReadDigits(s, 17, 2, ss)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mi > 59 || ss > 60) return std::nullopt;
  size_t pos = 19;
  int millis = 0;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
    std::string frac(s.substr(start, std::min<size_t>(3, pos - start)));
    frac.resize(3, '0');
    millis = std::stoi(frac);
  }
  long offset = 0;
  if (pos >= s.size() || !ReadZone(s, pos, offset)) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mi;
  tm.tm_sec = ss;
  std::time_t local = timegm(&tm);
  std::tm check{};
  gmtime_r(&local, &check);
  if (check.tm_mday != day || check.tm_mon != mon - 1) return std::nullopt;  // "2021-02-31"
  long long utc = static_cast<long long>(local) - offset;
  // The offset (or a leap second) can carry the instant out of years 0000-9999, which the
  // four-digit form cannot write ("9999-12-31T23:59:59-01:00" would become "10000-...", which
  // does not parse back and breaks the text order).
  constexpr long long kFirstSecond = -62167219200LL;  // 0000-01-01T00:00:00Z
  constexpr long long kLastSecond = 253402300799LL;   // 9999-12-31T23:59:59Z
  if (utc < kFirstSecond || utc > kLastSecond) return std::nullopt;
  return FormatMillis(utc * 1000 + millis);
}

}  // namespace scim
