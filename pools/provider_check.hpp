#pragma once
// Preflight checks shared by the providers.

#include <string>
#include <vector>

#include "core/error.hpp"

namespace lbctl::pools {

// `argv[0]` of a configured command exists and is executable (skipped when
// it is built from a placeholder). `what` names the key in messages.
Result<void> check_program(const std::vector<std::string>& argv, const std::string& what);

}  // namespace lbctl::pools
