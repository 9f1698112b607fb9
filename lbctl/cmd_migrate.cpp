// `lbctl migrate`: being written in this session; replaced by the real command.

#include <CLI/CLI.hpp>
#include <iostream>

#include "lbctl/cli.hpp"
#include "lbctl/exit_codes.hpp"

namespace lbctl::cli {

void add_migrate_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("migrate", "(not available yet)");
  command->allow_extras();
  command->callback([&action] {
    action = [] {
      std::cerr << "lbctl migrate: not available in this build yet\n";
      return k_exit_usage;
    };
  });
}

}  // namespace lbctl::cli
