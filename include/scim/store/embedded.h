#pragma once
// The migrations/<dialect>/*.sql files compiled into the binary (generated at build time).

#include <string>
#include <vector>

namespace scim::store {

struct EmbeddedFile {
  const char* name;  // "sqlite/001_initial.sql"
  const char* text;
};

const std::vector<EmbeddedFile>& EmbeddedMigrationFiles();

}  // namespace scim::store
