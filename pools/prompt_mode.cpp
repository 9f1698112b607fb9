#include "pools/prompt_mode.hpp"

namespace lbctl::pools {

std::vector<std::string> split_prompt_answers(std::string& stream) {
  std::vector<std::string> answers;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = stream.find("\n> ", start);
    if (end == std::string::npos) break;
    answers.emplace_back(stream, start, end - start);
    start = end + 3;
  }
  stream.erase(0, start);
  return answers;
}

bool is_well_formed(std::string_view command) {
  if (command.find('\r') != std::string_view::npos) return false;
  const auto first_newline = command.find('\n');
  if (first_newline == std::string_view::npos) return true;
  if (!command.substr(0, first_newline).ends_with(" <<")) return false;
  // No empty payload line: it would end the payload early.
  return command.find("\n\n") == std::string_view::npos && !command.ends_with('\n');
}

}  // namespace lbctl::pools
