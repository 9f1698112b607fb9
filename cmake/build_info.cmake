# lbctl --version names the commit it was built from. The commit is read at
# every build, not only when CMake configures, and the generated file is
# rewritten only when it changes, so a new commit relinks lbctl and nothing
# else rebuilds. A build outside a git checkout (a source tarball) says
# "unknown" unless the packager passes -DLBCTL_GIT_COMMIT=...
set(LBCTL_GIT_COMMIT "" CACHE STRING "The commit lbctl --version names (default: read from git at build time)")
set(_build_info "${PROJECT_BINARY_DIR}/generated/build_info.cpp")
add_custom_target(lbctl_build_info_update
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${_build_info}
          -DVERSION=${PROJECT_VERSION} -DCOMMIT=${LBCTL_GIT_COMMIT}
          -P ${PROJECT_SOURCE_DIR}/cmake/build_info_write.cmake
  BYPRODUCTS ${_build_info}
  COMMENT "Reading the git commit for lbctl --version"
  VERBATIM)
add_library(lbctl_build_info STATIC ${_build_info})
add_dependencies(lbctl_build_info lbctl_build_info_update)
target_include_directories(lbctl_build_info PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(lbctl_build_info PUBLIC lbctl_settings)
