#pragma once
// The scimd command line (product.md "Command line"): parses flags and runs one command.

namespace scim::app {

// Returns the process exit code. Errors are one line on stderr; nothing throws out of here.
int Main(int argc, char** argv);

}  // namespace scim::app
