# Data files compiled into the binary so that scimd runs from any directory: the SCIM schemas
# (scim-schemas/*.json, parsed by the schema registry at start-up) and the SQL migrations.
function(scim_embed target out dir patterns header namespace func)
  set(deps "")
  foreach(pattern ${patterns})
    file(GLOB matched CONFIGURE_DEPENDS ${dir}/${pattern})
    list(APPEND deps ${matched})
  endforeach()
  string(REPLACE ";" "\\;" patterns_arg "${patterns}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DDIR=${dir} "-DPATTERNS=${patterns_arg}"
            -DHEADER=${header} -DNAMESPACE=${namespace} -DFUNC=${func}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_schemas_script.cmake
    DEPENDS ${deps} ${PROJECT_SOURCE_DIR}/cmake/embed_schemas_script.cmake
    COMMENT "Embedding ${dir}")
  add_library(${target} STATIC ${out})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/include)
endfunction()

scim_embed(scim_embedded_schemas ${CMAKE_BINARY_DIR}/generated/embedded_schemas.cc
           ${PROJECT_SOURCE_DIR}/scim-schemas "*.json" scim/schema/embedded.h scim::schema
           EmbeddedSchemaFiles)
scim_embed(scim_embedded_migrations ${CMAKE_BINARY_DIR}/generated/embedded_migrations.cc
           ${PROJECT_SOURCE_DIR}/migrations "sqlite/*.sql;postgresql/*.sql" scim/store/embedded.h
           scim::store EmbeddedMigrationFiles)

# The admin console's static files (console/, served at /console/ by src/http/console.cc).
file(GLOB_RECURSE _scim_console_files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/console/*)
set(_scim_console_out ${CMAKE_BINARY_DIR}/generated/embedded_console.cc)
add_custom_command(
  OUTPUT ${_scim_console_out}
  COMMAND ${CMAKE_COMMAND} -DOUT=${_scim_console_out} -DDIR=${PROJECT_SOURCE_DIR}/console
          -P ${PROJECT_SOURCE_DIR}/cmake/embed_console_script.cmake
  DEPENDS ${_scim_console_files} ${PROJECT_SOURCE_DIR}/cmake/embed_console_script.cmake
  COMMENT "Embedding console/")
add_library(scim_embedded_console STATIC ${_scim_console_out})
target_include_directories(scim_embedded_console PUBLIC ${PROJECT_SOURCE_DIR}/include)
