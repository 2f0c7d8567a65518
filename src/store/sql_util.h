#pragma once
// Small SOCI helpers shared by the store's implementation files.

#include <soci/soci.h>

#include <cstdint>
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

// A new resource id: a UUIDv7 (RFC 9562 §5.7) of the current Unix time in milliseconds and 74
// bits from OpenSSL's CSPRNG, lower-case. Ids of later milliseconds sort after earlier ones, so a
// push of new resources appends to the primary key and the (tenant, resource_type, id) index
// instead of landing on a random page of each (b-tree page churn once the indexes outgrow the
// writer's cache; issue 11). SCIM ids are opaque (RFC 7643 §3.1): nothing relies on the layout,
// and the stored v4 ids of earlier versions stay valid.
std::string GenerateId();

// The UUIDv7 text of `unix_ms` (its low 48 bits) and `random` (the version and variant bits
// overwrite 6 of its 80 bits): GenerateId's layout, separate so that it can be tested.
std::string FormatUuidV7(uint64_t unix_ms, const unsigned char (&random)[10]);

}  // namespace scim::store
