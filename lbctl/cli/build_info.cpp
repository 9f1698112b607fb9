#include "lbctl/cli/build_info.hpp"

#include <fmt/format.h>

namespace lbctl::build_info {

std::string version_line() { return fmt::format("lbctl {} (git {})", version, git_commit); }

}  // namespace lbctl::build_info
