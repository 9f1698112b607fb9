#pragma once
// What this binary is: the project's version and the git commit it was built
// from (cmake/build_info.cmake generates the definitions at build time).

#include <string>

namespace lbctl::build_info {

extern const char* const version;     // "0.1.0"
extern const char* const git_commit;  // "1a2b3c4d5e6f", "1a2b3c4d5e6f-dirty" or "unknown"

// `lbctl --version`: "lbctl 0.1.0 (git 1a2b3c4d5e6f)".
std::string version_line();

}  // namespace lbctl::build_info
