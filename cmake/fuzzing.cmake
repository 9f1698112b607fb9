# LBCTL_FUZZ: the libraries instrumented for libFuzzer, for tests/fuzz/ and
# scripts/fuzz. Debian 12 offers libFuzzer only with clang (16: clang-16 and
# libclang-rt-16-dev); GCC 12 has no libFuzzer instrumentation, and afl++'s
# GCC plugin in Debian 12 refuses GCC 12.2. Clang builds against Debian's
# libstdc++, so yaml-cpp, fmt and libFuzzer's own runtime (all built with
# libstdc++) link as they are.
if(NOT LBCTL_FUZZ)
  return()
endif()
if(NOT LBCTL_SANITIZE)
  message(FATAL_ERROR "LBCTL_FUZZ runs the targets under ASan+UBSan: add -DLBCTL_SANITIZE=ON")
endif()
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR CMAKE_CXX_COMPILER_VERSION VERSION_LESS 16)
  message(FATAL_ERROR "LBCTL_FUZZ needs clang 16 or later: CXX=clang++-16 (scripts/fuzz sets it)")
endif()

# libstdc++ 12 declares std::expected only when __cpp_concepts >= 202002L.
# Clang 16 implements what that value stands for (P0848, conditionally
# trivial special members) but still reports 201907L, so <expected> stays
# empty. Raising the macro is safe only while the feature really works: the
# check below fails the configure step on a compiler where it does not.
set(_expected_flags "-U__cpp_concepts" "-D__cpp_concepts=202002L" "-Wno-builtin-macro-redefined")
include(CheckCXXSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-std=c++2b ${_expected_flags}")
string(REPLACE ";" " " CMAKE_REQUIRED_FLAGS "${CMAKE_REQUIRED_FLAGS}")
check_cxx_source_compiles([[
#include <expected>
#include <string>
#include <type_traits>
static_assert(std::is_trivially_copy_constructible_v<std::expected<int, int>>);
static_assert(std::is_trivially_destructible_v<std::expected<int, int>>);
static_assert(!std::is_trivially_destructible_v<std::expected<std::string, int>>);
static_assert(!std::is_trivially_copy_constructible_v<std::expected<std::string, int>>);
int main() {
  std::expected<std::string, int> a = std::string(40, 'x');
  auto b = a;
  b = std::unexpected(3);
  return a.has_value() && !b.has_value() ? 0 : 1;
}
]] LBCTL_CLANG_EXPECTED_WORKS)
unset(CMAKE_REQUIRED_FLAGS)
if(NOT LBCTL_CLANG_EXPECTED_WORKS)
  message(FATAL_ERROR "this clang cannot compile libstdc++'s std::expected (see cmake/fuzzing.cmake)")
endif()

target_compile_options(lbctl_settings INTERFACE ${_expected_flags} -fsanitize=fuzzer-no-link)
# Boost 1.74 turns co_await on for clang only with <experimental/coroutine>
# and __cpp_coroutines, which clang 16 with libstdc++ has neither of; its
# standard <coroutine> works, and Asio already picks it (BOOST_ASIO_HAS_STD_COROUTINE).
target_compile_definitions(lbctl_settings INTERFACE BOOST_ASIO_HAS_CO_AWAIT=1)
