#pragma once
// The scim-schemas/*.json files compiled into the binary (generated at build time).

#include <string>
#include <vector>

namespace scim::schema {

struct EmbeddedFile {
  const char* name;
  const char* text;
};

const std::vector<EmbeddedFile>& EmbeddedSchemaFiles();

}  // namespace scim::schema
