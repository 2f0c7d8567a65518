#include "http/error_log.h"

#include <unistd.h>

#include <string>

namespace scim::http {

void LogToStderr(std::string_view message) {
  std::string line = "scimd http: ";
  line.append(message);
  line.push_back('\n');
  // One write(2) so that lines from different threads do not interleave.
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace scim::http
