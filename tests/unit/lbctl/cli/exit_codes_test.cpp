#include "tests/support/catch.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/exit_codes.hpp"

using namespace lbctl;
using Catch::Contains;

namespace {

// Runs of white space as one space: the README and --help fold lines where they like.
std::string one_line(const std::string& text) {
  std::istringstream words(text);
  std::string out;
  std::string word;
  while (words >> word) out += out.empty() ? word : ' ' + word;
  return out;
}

std::string read_source(const std::filesystem::path& relative) {
  std::ifstream in(std::filesystem::path(LBCTL_SOURCE_DIR) / relative);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("the exit codes' text names every code once, in order", "[cli][exit_codes]") {
  const std::string text = cutover_exit_codes();
  CHECK(text.starts_with("Exit codes: 0 done; 1 failed and rolled back cleanly; 2 usage or config error; "));
  std::size_t at = 0;
  for (int code : {k_exit_done, k_exit_failed, k_exit_usage, k_exit_operator, k_exit_locked, k_exit_unreachable}) {
    const auto found = text.find(std::to_string(code) + ' ', at);
    REQUIRE(found != std::string::npos);
    at = found + 1;
  }
  CHECK(text.ends_with("before anything changed."));
}

TEST_CASE("the folded exit codes keep every word and no line is wider than asked", "[cli][exit_codes]") {
  for (std::size_t width : {40U, 100U}) {
    const std::string folded = cutover_exit_codes_folded(width);
    CHECK(one_line(folded) == cutover_exit_codes());
    std::istringstream lines(folded);
    for (std::string line; std::getline(lines, line);) CHECK(line.size() <= width);
  }
}

TEST_CASE("the exit codes in the one text: lbctl's help, cutover's help and the README say it", "[cli][exit_codes]") {
  CLI::App app{"lbctl", "lbctl"};
  cli::Action action;
  build_cli(app, action);
  const std::string want = cutover_exit_codes();
  CHECK_THAT(one_line(app.help()), Contains(want));
  CHECK_THAT(one_line(app.get_subcommand("cutover")->help()), Contains(want));
  CHECK_THAT(one_line(read_source("README.md")), Contains(want));
}
