// `lbctl validate -c FILE [--json]`: load and check the config, change nothing.

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/exit_codes.hpp"

namespace lbctl::cli {

namespace {

int validate(const std::string& file, bool json) {
  try {
    const Config config = load_config(file);
    const auto warnings = config_warnings(config);
    if (json) {
      std::cout << nlohmann::json{{"ok", true},
                                  {"service", config.service},
                                  {"summary", summarize(config)},
                                  {"warnings", warnings}}
                       .dump()
                << "\n";
    } else {
      std::cout << "ok: " << summarize(config) << "\n";
    }
    // Valid, and still worth knowing before a cutover: on stderr, exit 0.
    for (const auto& warning : warnings) std::cerr << "warning: " << warning << "\n";
    return k_exit_done;
  } catch (const ConfigError& e) {
    // Automation reads stdout; people read stderr. Messages never hold secrets.
    if (json) std::cout << nlohmann::json{{"ok", false}, {"error", e.what()}}.dump() << "\n";
    std::cerr << e.what() << "\n";
    return k_exit_usage;
  }
}

}  // namespace

void add_validate_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("validate", "Check a config file and print a one-line summary");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  command->add_option("-c,--config", *file, "The config file (YAML)")->required();
  command->add_flag("--json", *json, "One JSON object: {ok, service, summary, warnings} or {ok, error}");
  command->callback([&action, file, json] {
    action = [file, json] { return validate(*file, *json); };
  });
}

}  // namespace lbctl::cli
