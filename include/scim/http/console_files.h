#pragma once
// The admin console's static files (console/ at the repository root), compiled into the binary
// at build time (cmake/embed_console_script.cmake) and served at /console/ (src/http/console.cc).

#include <cstddef>
#include <vector>

namespace scim::http {

struct ConsoleFile {
  const char* path;  // relative to console/, e.g. "index.html", "app.js"
  const unsigned char* data;
  size_t size;
};

const std::vector<ConsoleFile>& ConsoleFiles();

}  // namespace scim::http
