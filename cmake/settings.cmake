# Warnings, sanitizers and the Boost 1.74 workaround, set once for every target
# that links lbctl_settings.
add_library(lbctl_settings INTERFACE)
target_compile_options(lbctl_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual
  -Wimplicit-fallthrough
  # boost/asio/awaitable.hpp (Boost 1.74) uses std::exchange without <utility>.
  -include utility)
# Two false positives of GCC 12 when it optimizes, off there only (the Debug
# test build keeps both warnings, and ASan checks every free it makes):
# - -Wrestrict inside libstdc++'s `"literal" + std::string` (operator+
#   inserting at the front; GCC bug 105329), which libpqxx's own headers trip
#   as much as our code does;
# - -Wfree-nonheap-object on a path that cannot run: destroying a
#   std::expected's error (its message's pointer) while the value, an empty
#   unordered_map whose bucket count 1 sits at that offset, is the live
#   member (when_all over the drain's per-LB session maps, in a coroutine).
set(_gcc12_optimized "$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>,$<NOT:$<CONFIG:Debug>>>")
target_compile_options(lbctl_settings INTERFACE "$<${_gcc12_optimized}:-Wno-restrict;-Wno-free-nonheap-object>")
if(LBCTL_WERROR)
  target_compile_options(lbctl_settings INTERFACE -Werror)
endif()
target_compile_definitions(lbctl_settings INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_COROUTINE
  CATCH_CONFIG_FAST_COMPILE)
if(LBCTL_SANITIZE)
  # Line tables only (-g1): ASan's and UBSan's reports keep files and lines,
  # a compile takes 15 s instead of 17.5 s and objects are a quarter smaller.
  # Linked -no-pie: an ASan lbctl is a 700 MB binary, and as a PIE the
  # dynamic loader spent 0.7 of its 1.1 s start relocating it (12 M
  # relocations); the tests start lbctl thousands of times. The shipped
  # build (hardening.cmake) stays PIE.
  target_compile_options(lbctl_settings INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g1)
  target_link_options(lbctl_settings INTERFACE -fsanitize=address,undefined -no-pie)
endif()
if(CMAKE_UNITY_BUILD)
  # In a unity build GCC takes the batched sources for headers and flags
  # every coroutine frame holding a lambda of a file-scope type.
  target_compile_options(lbctl_settings INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
endif()

# Every library in this project: one per folder, named lbctl_<folder>.
# Sources are every *.cpp in the folder except those listed after EXCLUDE.
function(lbctl_library name)
  cmake_parse_arguments(ARG "" "" "EXCLUDE" ${ARGN})
  file(GLOB _sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cpp")
  foreach(_excluded IN LISTS ARG_EXCLUDE)
    list(REMOVE_ITEM _sources "${CMAKE_CURRENT_SOURCE_DIR}/${_excluded}")
  endforeach()
  if(NOT _sources)
    # A folder whose first source has not landed yet.
    set(_sources "${PROJECT_SOURCE_DIR}/cmake/empty.cpp")
  endif()
  add_library(${name} STATIC ${_sources})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC lbctl_settings)
endfunction()
