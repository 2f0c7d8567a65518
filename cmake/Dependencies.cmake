# Every dependency is a Debian package (see README.md for the apt-get line).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PISTACHE REQUIRED IMPORTED_TARGET libpistache)
find_package(RapidJSON CONFIG REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(CURL REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
# ICU (libicu-dev): Unicode case folding and NFC of case-insensitive values (scim::FoldCase).
find_package(ICU REQUIRED COMPONENTS uc)
find_package(spdlog REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS unit_test_framework)

# Debian's SOCI ships no CMake config and no .pc file: link the libraries by name.
find_library(SOCI_CORE_LIB soci_core REQUIRED)
find_library(SOCI_SQLITE3_LIB soci_sqlite3 REQUIRED)
find_library(SOCI_POSTGRESQL_LIB soci_postgresql REQUIRED)
add_library(soci_all INTERFACE)
target_compile_definitions(soci_all INTERFACE SOCI_USE_BOOST)
target_link_libraries(soci_all INTERFACE ${SOCI_POSTGRESQL_LIB} ${SOCI_SQLITE3_LIB} ${SOCI_CORE_LIB}
                      PostgreSQL::PostgreSQL SQLite::SQLite3 Boost::headers)

add_library(rapidjson_headers INTERFACE)
target_include_directories(rapidjson_headers SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(rapidjson_headers INTERFACE RAPIDJSON_HAS_STDSTRING=1)

# -Wno-restrict: GCC 12 reports false positives in libstdc++ string code at -O2 (GCC bug 105329).
set(SCIMD_WARNINGS -Wall -Wextra -Werror -Wno-restrict)
if(SCIMD_SANITIZE)
  # -fno-sanitize=vptr: the vptr check needs the typeinfo of SOCI's internal classes, which
  # Debian's libsoci does not export (link fails); every other UBSan check stays on.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined -fno-sanitize=vptr)
endif()
if(SCIMD_FUZZ)
  # libFuzzer targets (tests/fuzz, clang only): every scim_* library gets coverage
  # instrumentation and the sanitizers too; executables other than the fuzzers link the
  # sanitizer runtimes.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    list(APPEND SCIMD_WARNINGS -Wno-unknown-warning-option)  # GCC-only flags above
    # RapidJSON 1.1 iterators under C++20: clang warns that `it != end` could also match the
    # rewritten reversed operator; it picks the intended one (GCC does not warn).
    list(APPEND SCIMD_WARNINGS -Wno-ambiguous-reversed-operator)
  endif()
endif()
