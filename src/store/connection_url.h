#pragma once
// Parsing of the database URLs of product.md into SOCI connection strings.

#include <string>

#include "scim/common/result.h"
#include "scim/store/database.h"

namespace scim::store {

struct ConnectionUrl {
  Dialect dialect;
  std::string connect_string;  // for soci::session::open
  std::string redacted;        // the URL without its password, for messages
  std::string sqlite_path;     // SQLite: the database file as given; empty for PostgreSQL
};

// "sqlite:PATH" (also "sqlite://PATH") or "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
// ("postgres://" too). Anything else is kInvalidValue.
Result<ConnectionUrl> ParseConnectionUrl(const std::string& url);

// The first line of a (possibly multi-line) driver message.
std::string FirstLine(const std::string& text);

}  // namespace scim::store
