# scim_module(name [PUBLIC deps...] [PRIVATE deps...]): a static library scim_<name> from
# src/<name>/**/*.cc, with the public headers in include/scim/<name>/. Files are globbed so a new
# source needs no edit here.
#
# Boundaries (docs/architecture.md, checked by tests/architecture/check_boundaries.py):
# - PUBLIC: what the module's public headers (include/scim/<name>/) need; everything else PRIVATE,
#   so a third-party library stays inside the module that owns it.
# - The module sees the public include/ and its own private headers, and no other module's:
#   src/ is not on the include path. Private headers keep their module-qualified spelling
#   ("store/sql_util.h"): the include directory <build>/module_private/<name>/ holds one entry,
#   a symbolic link <name> -> src/<name>, so only src/<name>/ resolves under that prefix.
# The private include directory and the PRIVATE dependencies are recorded on the target
# (SCIM_PRIVATE_INCLUDE, SCIM_PRIVATE_DEPS) for the module's white-box unit tests.
function(scim_module name)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE" ${ARGN})
  set(private_include ${CMAKE_BINARY_DIR}/module_private/${name})
  file(MAKE_DIRECTORY ${private_include})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${private_include}/${name} SYMBOLIC)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  if(sources)
    add_library(scim_${name} STATIC ${sources})
    target_include_directories(scim_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                            PRIVATE ${private_include})
    target_compile_options(scim_${name} PRIVATE ${SCIMD_WARNINGS})
    target_link_libraries(scim_${name} PUBLIC ${ARG_PUBLIC} Threads::Threads
                                       PRIVATE ${ARG_PRIVATE})
  else()
    # A module with headers only (or not written yet) still takes part in the dependency chain.
    add_library(scim_${name} INTERFACE)
    target_include_directories(scim_${name} INTERFACE ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(scim_${name} INTERFACE ${ARG_PUBLIC} ${ARG_PRIVATE} Threads::Threads)
  endif()
  set_property(TARGET scim_${name} PROPERTY SCIM_PRIVATE_INCLUDE ${private_include})
  set_property(TARGET scim_${name} PROPERTY SCIM_PRIVATE_DEPS "${ARG_PRIVATE}")
endfunction()
