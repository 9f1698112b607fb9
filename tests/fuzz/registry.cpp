#include "tests/fuzz/fuzz.hpp"

namespace lbctl::fuzz {

std::map<std::string, Target, std::less<>>& targets() {
  // A function-local static: registrations run during static initialization,
  // in any order across files.
  static std::map<std::string, Target, std::less<>> all;
  return all;
}

}  // namespace lbctl::fuzz
