// `scimd --version`. SCIMD_VERSION (CMake's project version) and SCIMD_GIT_COMMIT (the commit
// checked out when CMake configured the build, empty outside a git checkout) come from
// CMakeLists.txt, on this file only.

#include "app/commands.h"

#ifndef SCIMD_VERSION
#define SCIMD_VERSION "unknown"
#endif
#ifndef SCIMD_GIT_COMMIT
#define SCIMD_GIT_COMMIT ""
#endif

namespace scim::app {

std::string VersionLine() {
  std::string line = "scimd " SCIMD_VERSION;
  std::string commit = SCIMD_GIT_COMMIT;
  if (!commit.empty()) line += " (" + commit + ")";
  return line;
}

}  // namespace scim::app
