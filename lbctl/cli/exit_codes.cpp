#include "lbctl/cli/exit_codes.hpp"

#include <sstream>
#include <string_view>
#include <utility>

namespace lbctl {

namespace {

// Each code and what it means for a cutover, in the order automation reads them.
constexpr std::pair<ExitCode, std::string_view> k_meanings[] = {
    {k_exit_done, "done"},
    {k_exit_failed, "failed and rolled back cleanly"},
    {k_exit_usage, "usage or config error"},
    {k_exit_operator, "stopped and needs an operator"},
    {k_exit_locked, "another cutover holds the lock (the message names it)"},
    {k_exit_unreachable, "a dependency was unreachable before anything changed"},
};

}  // namespace

std::string cutover_exit_codes() {
  std::string text = "Exit codes:";
  for (std::size_t i = 0; i < std::size(k_meanings); ++i) {
    text += ' ';
    text += std::to_string(static_cast<int>(k_meanings[i].first));
    text += ' ';
    text += k_meanings[i].second;
    text += i + 1 < std::size(k_meanings) ? ';' : '.';
  }
  return text;
}

std::string cutover_exit_codes_folded(std::size_t width) {
  std::istringstream words(cutover_exit_codes());
  std::string folded;
  std::string line;
  std::string word;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      folded += line + '\n';
      line.clear();
    }
    line += line.empty() ? word : ' ' + word;
  }
  return folded + line;
}

}  // namespace lbctl
