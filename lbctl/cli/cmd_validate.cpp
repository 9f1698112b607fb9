// `lbctl validate -c FILE [--json]`: load and check the config, change nothing.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "pools/haproxy_cfg.hpp"

namespace lbctl::cli {

namespace {

// Backends that keep users on their server (as the LBs' local persisted
// files say) while drain.idle is unset. `lbctl plan` counts the users.
std::vector<std::string> sticky_warnings(const Config& config) {
  std::vector<std::string> warnings;
  if (config.drain.idle.count() > 0) return warnings;
  for (const auto& lb : config.load_balancers) {
    if (!lb.persist || lb.persist->remote()) continue;
    std::ifstream in(lb.persist->file, std::ios::binary);
    if (!in) continue;  // plan and cutover say why it cannot be read
    std::ostringstream text;
    text << in.rdbuf();
    const auto backend = pools::find_backend(text.str(), lb.backend);
    if (!backend || !backend->persistence.any()) continue;
    const auto& p = backend->persistence;
    std::vector<std::string> how;
    if (!p.cookie.empty()) how.push_back("cookie " + p.cookie);
    how.insert(how.end(), p.stick.begin(), p.stick.end());
    if (p.force_persist) how.push_back("force-persist");
    warnings.push_back(fmt::format("{}: backend {} keeps users on their server ({} says: {}) and drain.idle is not set: the "
                                   "drain ends as soon as the old servers have no session, and every sticky user "
                                   "between two requests loses their server; `lbctl plan` counts them. Set "
                                   "drain.idle to how long a user may pause (e.g. 30s)",
                                   lb.name, lb.backend, lb.persist->file.string(), fmt::join(how, "; ")));
  }
  return warnings;
}

int validate(const std::string& file, bool json) {
  try {
    const Config config = load_config(file);
    auto warnings = config_warnings(config);
    for (auto& warning : sticky_warnings(config)) warnings.push_back(std::move(warning));
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
