// lbctl-docgen OUTDIR EXAMPLES_DIR: writes lbctl.1, lbctl.bash and _lbctl
// from lbctl's command definitions. The build runs it; it is not installed.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "docgen/command_tree.hpp"
#include "docgen/completion.hpp"
#include "docgen/man_page.hpp"
#include "lbctl/cli/build_info.hpp"
#include "lbctl/cli/cli.hpp"

namespace {

bool write(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::cerr << "lbctl-docgen: cannot write " << file.string() << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: lbctl-docgen OUTDIR EXAMPLES_DIR\n";
    return 2;
  }
  CLI::App app{lbctl::k_cli_description, "lbctl"};
  lbctl::cli::Action unused;
  lbctl::build_cli(app, unused);
  const auto commands = lbctl::docgen::command_tree(app);
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  const bool ok =
      write(out / "lbctl.1", lbctl::docgen::render_man_page(commands, lbctl::build_info::version_line(), argv[2])) &&
      write(out / "lbctl.bash", lbctl::docgen::render_bash_completion(commands)) &&
      write(out / "_lbctl", lbctl::docgen::render_zsh_completion(commands));
  return ok ? 0 : 1;
}
