#include "lbctl/output.hpp"

#include <iostream>
#include <unistd.h>

#include "lbctl/table.hpp"

namespace lbctl {

std::unique_ptr<EventSink> make_output_sink(bool json, std::ostream& out) {
  if (json) return std::make_unique<JsonLinesSink>(out);
  if (stdout_is_terminal()) return std::make_unique<TerminalSink>(out);
  return std::make_unique<PlainSink>(out);
}

bool interactive() { return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1; }

bool confirm(const std::string& question) {
  std::cout << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace lbctl
