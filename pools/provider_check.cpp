#include "pools/provider_check.hpp"

#include <fmt/format.h>

#include "core/process.hpp"

namespace lbctl::pools {

Result<void> check_program(const std::vector<std::string>& argv, const std::string& what) {
  if (argv.empty() || argv.front().find('{') != std::string::npos) return {};
  if (find_program(argv.front())) return {};
  return fail(ErrorKind::invalid, fmt::format("{}: '{}' is not an executable program{}", what, argv.front(),
                                              argv.front().find('/') == std::string::npos ? " on PATH" : ""));
}

}  // namespace lbctl::pools
