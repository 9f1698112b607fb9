// `lbctl maintenance on -c FILE --message TEXT [--duration 30m]` and
// `lbctl maintenance off -c FILE`: a 503 page with a message and the expected
// end on every LB, through the runtime API, without a reload.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/run.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/fleet_setup.hpp"
#include "lbctl/cutover/maintenance.hpp"

namespace lbctl::cli {

namespace {

struct MaintenanceArgs {
  std::string file;
  std::string message;
  std::string duration;
  bool json = false;
};

int refuse(const std::string& message, int code, bool json) {
  if (json) std::cout << nlohmann::json{{"ok", false}, {"error", message}}.dump() << "\n";
  std::cerr << "lbctl: " << message << "\n";
  return code;
}

int switch_maintenance(const MaintenanceArgs& args, bool on) {
  const Config config = load_config(args.file);
  if (!config.maintenance || config.maintenance->map.empty()) {
    return refuse(args.file + ": maintenance.map is not set: name the map file the LBs' frontends consult", k_exit_usage,
                  args.json);
  }
  const std::string map = config.maintenance->map;
  std::string text;
  if (on) {
    std::optional<Duration> duration = config.maintenance->duration;
    if (!args.duration.empty()) {
      duration = parse_duration(args.duration);
      if (!duration) return refuse("--duration: '" + args.duration + "' is not a duration (e.g. 30m, 2h)", k_exit_usage, args.json);
    }
    const std::string message = args.message.empty() ? config.maintenance->message : args.message;
    const bool printable = std::none_of(message.begin(), message.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte < 0x20 || byte == 0x7f;
    });
    if (message.empty() || message.size() > 500 || !printable) {
      return refuse("--message: one line of printable text, 1 to 500 bytes", k_exit_usage, args.json);
    }
    text = maintenance_text(message, duration, std::chrono::system_clock::now());
  }
  boost::asio::io_context io;
  SteadyClock clock;
  PosixProcessRunner processes;
  auto fleet = make_fleet(config, clock, processes);
  auto result = on ? run_to_end(io, maintenance_on(fleet, map, text)) : run_to_end(io, maintenance_off(fleet, map));
  if (!result) {
    const auto code = result.error().kind == ErrorKind::invalid ? k_exit_usage : exit_code_for(result.error());
    return refuse(result.error().message, code, args.json);
  }
  std::vector<std::string> names;
  for (const auto& lb : config.load_balancers) names.push_back(lb.name);
  if (args.json) {
    nlohmann::json out = {{"ok", true}, {"maintenance", on ? "on" : "off"}, {"load_balancers", names}};
    if (on) out["text"] = text;
    std::cout << out.dump() << "\n";
  } else if (on) {
    std::cout << "maintenance on: every request through " << fmt::format("{}", fmt::join(names, ", "))
              << " gets 503 \"" << text << "\"\n";
  } else {
    std::cout << "maintenance off: " << fmt::format("{}", fmt::join(names, ", ")) << " pass traffic again\n";
  }
  return k_exit_done;
}

}  // namespace

void add_maintenance_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<MaintenanceArgs>();
  auto* command = app.add_subcommand("maintenance", "Turn the 503 maintenance page on or off on every load balancer");
  command->require_subcommand(1);
  auto* on = command->add_subcommand("on", "Every request gets a 503 page with the message and the expected end");
  on->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  on->add_option("--message,-m", args->message, "The page's text (default: maintenance.message)");
  on->add_option("--duration,-d", args->duration, "Expected length, shown as an end time (e.g. 30m)");
  on->add_flag("--json", args->json, "One JSON object");
  on->callback([&action, args] { action = [args] { return switch_maintenance(*args, true); }; });
  auto* off = command->add_subcommand("off", "Let traffic through again");
  off->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  off->add_flag("--json", args->json, "One JSON object");
  off->callback([&action, args] { action = [args] { return switch_maintenance(*args, false); }; });
  command->footer("Needs maintenance.map in the config and, in every LB's frontend, the lines of configs/haproxy.cfg.\n"
                  "All or nothing: if one LB fails, the others are switched back. Exit codes: 0 done; 1 refused by\n"
                  "an LB; 2 usage, config, or an LB without the map; 5 an LB unreachable.");
}

}  // namespace lbctl::cli
