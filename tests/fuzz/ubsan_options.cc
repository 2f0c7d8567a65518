// Linked into every fuzz_* target: UBSan reads these defaults before $UBSAN_OPTIONS, so the
// suppressions of tests/fuzz/ubsan.supp (known UB in RapidJSON 1.1.0, outside the code under
// test) apply however the fuzzer is started, including by tests/run_all.sh, whose
// UBSAN_OPTIONS (print_stacktrace=1:halt_on_error=1) does not name the file. An explicit
// suppressions=... in $UBSAN_OPTIONS still wins.

#ifndef SCIMD_UBSAN_SUPPRESSIONS
#error "SCIMD_UBSAN_SUPPRESSIONS must be the absolute path of tests/fuzz/ubsan.supp"
#endif

extern "C" const char* __ubsan_default_options() {  // NOLINT: sanitizer hook
  return "suppressions=" SCIMD_UBSAN_SUPPRESSIONS;
}
