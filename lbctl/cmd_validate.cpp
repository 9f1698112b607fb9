// `lbctl validate -c FILE`: load and check the config, change nothing.

#include <CLI/CLI.hpp>
#include <iostream>

#include "lbctl/cli.hpp"
#include "lbctl/config.hpp"
#include "lbctl/exit_codes.hpp"

namespace lbctl::cli {

void add_validate_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("validate", "Check a config file and print a one-line summary");
  auto file = std::make_shared<std::string>();
  command->add_option("-c,--config", *file, "The config file (YAML)")->required();
  command->callback([&action, file] {
    action = [file] {
      const Config config = load_config(*file);
      std::cout << "ok: " << summarize(config) << "\n";
      return k_exit_done;
    };
  });
}

}  // namespace lbctl::cli
