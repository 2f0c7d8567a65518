#pragma once
// Small SOCI helpers shared by the store's implementation files.

#include <soci/soci.h>

#include <optional>
#include <string>

#include "scim/store/database.h"

namespace scim::store {

// A nullable string parameter: SOCI 4.0.3 has no std::optional support, so a value + indicator.
struct NullableString {
  std::string value;
  soci::indicator ind = soci::i_null;
  explicit NullableString(const std::optional<std::string>& v)
      : value(v.value_or("")), ind(v ? soci::i_ok : soci::i_null) {}
};

struct NullableInt {
  int value = 0;
  soci::indicator ind = soci::i_null;
  explicit NullableInt(const std::optional<int>& v)
      : value(v.value_or(0)), ind(v ? soci::i_ok : soci::i_null) {}
};

// The placeholder for a JSON document parameter: JSONB on PostgreSQL, TEXT on SQLite.
inline std::string JsonParam(Dialect d, const char* name) {
  return d == Dialect::kPostgres ? std::string("CAST(:") + name + " AS JSONB)"
                                 : std::string(":") + name;
}

// An integer column of a soci::row, whatever type the backend reports: INTEGER is int on SQLite
// and BIGINT long long on PostgreSQL; an SQLite expression column has no declared type and comes
// back as text.
long long IntegerAt(const soci::row& r, size_t i);

// A random RFC 4122 version-4 UUID from OpenSSL's CSPRNG.
std::string GenerateId();

}  // namespace scim::store
