#include "store/sql_util.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace scim::store {

std::string FormatUuidV7(uint64_t unix_ms, const unsigned char (&random)[10]) {
  unsigned char b[16];
  for (int i = 0; i < 6; ++i) {  // unix_ts_ms: 48 bits, big-endian (RFC 9562 §5.7)
    b[i] = static_cast<unsigned char>(unix_ms >> (8 * (5 - i)));
  }
  for (int i = 0; i < 10; ++i) b[6 + i] = random[i];
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x70);  // ver = 0b0111
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // var = 0b10
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string GenerateId() {
  unsigned char random[10];
  if (RAND_bytes(random, sizeof random) != 1) std::abort();  // no entropy: nothing sensible to do
  // The wall clock, not common/clock.h's (tests may set that one): only the ordering matters.
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  return FormatUuidV7(static_cast<uint64_t>(ms), random);
}

long long IntegerAt(const soci::row& r, size_t i) {
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return r.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double:
      return static_cast<long long>(r.get<double>(i));
    default:
      return std::atoll(r.get<std::string>(i).c_str());
  }
}

}  // namespace scim::store
