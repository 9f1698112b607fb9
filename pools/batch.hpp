#pragma once
// A batch of one runtime API command, for the argument of a co_await: GCC 12
// miscompiles a braced initializer list written inside the co_await
// expression ("array used as initializer"). A vector declared with braces
// on a line of its own, then awaited by name, is fine.

#include <string>
#include <utility>
#include <vector>

namespace lbctl::pools {

inline std::vector<std::string> one_command(std::string command) {
  std::vector<std::string> commands;
  commands.push_back(std::move(command));
  return commands;
}

}  // namespace lbctl::pools
