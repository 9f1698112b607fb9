#pragma once
// A batch of one runtime API command, built outside the coroutines that send
// it: GCC 12 miscompiles a braced initializer list inside a co_await
// ("array used as initializer").

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
