#include "store/sql_util.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace scim::store {

std::string GenerateId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) std::abort();  // no entropy: nothing sensible to do
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
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
