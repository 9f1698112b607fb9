// `lbctl plan -c FILE [--json]`: what a cutover would do now; changes nothing.

#include <CLI/CLI.hpp>
#include <iostream>

#include "core/run.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/plan_render.hpp"
#include "lbctl/cli/release.hpp"
#include "lbctl/cli/wiring.hpp"

namespace lbctl::cli {

namespace {

int show_plan(const std::string& file, bool json, const std::string& release_flag) {
  const Config config = load_config(file);
  if (auto given = given_release(release_flag, config); !given) {
    std::cerr << "lbctl: " << given.error().message << "\n";
    return exit_code_for(given.error());
  }
  boost::asio::io_context io;
  Wiring wiring(config, io);
  if (auto opened = wiring.open_journal(); !opened) {
    std::cerr << "lbctl: " << opened.error().message << "\n";
    return exit_code_for(opened.error());
  }
  auto release = planned_release(release_flag, config, wiring.journal());
  if (!release) {
    std::cerr << "lbctl: " << release.error().message << "\n";
    return exit_code_for(release.error());
  }
  auto report = run_to_end(
      io, gather_plan(config, wiring.fleet(), wiring.provider(), wiring.migrator(), id_floor(wiring.journal(), config.service, 0), *release));
  wiring.journal().release();
  if (!report) {
    if (json) std::cout << nlohmann::json{{"error", report.error().message}}.dump() << "\n";
    std::cerr << "lbctl: " << report.error().message << "\n";
    return exit_code_for(Error{report.error().kind, ""});
  }
  if (json) {
    std::cout << plan_json(*report, config).dump() << "\n";
  } else {
    std::cout << render_plan(*report, config);
  }
  return k_exit_done;
}

}  // namespace

void add_plan_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("plan", "Show exactly what a cutover would do now; change nothing");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto release = std::make_shared<std::string>();
  command->add_option("-c,--config", *file, "The config file (YAML)")->required();
  command->add_flag("--json", *json, "One JSON object instead of text");
  command->add_option("--release", *release,
                      "The release a cutover would deploy (as cutover --release); default: the config's, or "
                      "r<the next cutover's id>");
  command->footer("Reaches every load balancer, the state and migrations databases. Exit codes: 0 a cutover could\n"
                  "start; 1 the fleet is not in a state to start from; 2 config error; 5 something unreachable.");
  command->callback([&action, file, json, release] {
    action = [file, json, release] { return show_plan(*file, *json, *release); };
  });
}

}  // namespace lbctl::cli
