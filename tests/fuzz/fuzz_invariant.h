#pragma once
// What every fuzz target does when one of its invariants breaks: print which, with the input and
// a detail, and abort so that libFuzzer records the input as a crash.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace scim::fuzzing {

[[noreturn]] inline void Fail(const char* what, std::string_view input,
                              const std::string& detail = "") {
  std::fprintf(stderr, "INVARIANT FAILED: %s\ninput: %.*s\n%s\n", what,
               static_cast<int>(input.size()), input.data(), detail.c_str());
  std::abort();
}

}  // namespace scim::fuzzing
