#pragma once
// Catch2 2 (Debian 12) or Catch2 3 (Debian 13) from one test source: every
// test includes this header, never Catch2's own. It keeps the names the tests
// use (Approx, Catch::Contains, Catch::StartsWith, Catch::EndsWith) where
// Catch2 3 moved or renamed them.

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators_all.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <string>

using Catch::Approx;

namespace Catch {
// Catch2 3's name for Catch2 2's substring matcher.
inline Matchers::StringContainsMatcher Contains(const std::string& text, CaseSensitive sensitivity = CaseSensitive::Yes) {
  return Matchers::ContainsSubstring(text, sensitivity);
}
// Catch2 2 had these in namespace Catch too.
using Matchers::EndsWith;
using Matchers::StartsWith;
}  // namespace Catch
#else
#include <catch2/catch.hpp>
#endif
