# scim_module(name DEPS ...): a static library scim_<name> from src/<name>/**/*.cc, with the
# public headers in include/scim/<name>/. Files are globbed so a new source needs no edit here.
function(scim_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  if(sources)
    add_library(scim_${name} STATIC ${sources})
    target_include_directories(scim_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                            PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_compile_options(scim_${name} PRIVATE ${SCIMD_WARNINGS})
    target_link_libraries(scim_${name} PUBLIC ${ARG_DEPS} Threads::Threads)
  else()
    # A module with headers only (or not written yet) still takes part in the dependency chain.
    add_library(scim_${name} INTERFACE)
    target_include_directories(scim_${name} INTERFACE ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(scim_${name} INTERFACE ${ARG_DEPS} Threads::Threads)
  endif()
endfunction()
