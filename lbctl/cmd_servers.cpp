// `lbctl servers -c FILE [--json]`: every LB's view of the backend's servers.

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/run.hpp"
#include "lbctl/cli.hpp"
#include "lbctl/config.hpp"
#include "lbctl/exit_codes.hpp"
#include "lbctl/fleet_setup.hpp"
#include "lbctl/table.hpp"

namespace lbctl::cli {

namespace {

using Stats = std::vector<pools::ServerStat>;

int show_servers(const Config& config, bool json) {
  boost::asio::io_context io;
  SteadyClock clock;
  PosixProcessRunner processes;
  auto fleet = make_fleet(config, clock, processes);
  auto results = run_to_end(io, fleet.each<Stats>([](pools::LoadBalancer& lb) { return lb.stats(); }));

  bool all_answered = true;
  nlohmann::json document = {{"service", config.service}, {"load_balancers", nlohmann::json::array()}};
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& lb = config.load_balancers[i];
    nlohmann::json entry = {{"name", lb.name}, {"backend", lb.backend}};
    if (!results[i].result) {
      all_answered = false;
      entry["error"] = results[i].result.error().message;
      if (!json) std::cerr << "error: " << results[i].result.error().message << "\n";
      document["load_balancers"].push_back(std::move(entry));
      continue;
    }
    const auto& servers = *results[i].result;
    entry["servers"] = nlohmann::json::array();
    Table table({"SERVER", "ADDRESS", "STATUS", "WEIGHT", "SESSIONS", "CHECK"});
    for (const auto& s : servers) {
      entry["servers"].push_back({{"name", s.name},
                                  {"address", s.address},
                                  {"status", s.status},
                                  {"weight", s.weight},
                                  {"sessions", s.scur + s.qcur},
                                  {"scur", s.scur},
                                  {"qcur", s.qcur},
                                  {"srv_icur", s.srv_icur},
                                  {"check_status", s.check_status}});
      table.add({s.name, s.address, s.status, std::to_string(s.weight), std::to_string(s.scur + s.qcur),
                 s.check_status.empty() ? "-" : s.check_status});
    }
    if (!json) {
      std::cout << lb.name << " (backend " << lb.backend << ", " << lb.runtime_api.to_string() << "): "
                << servers.size() << " servers\n"
                << table.render("  ");
    }
    document["load_balancers"].push_back(std::move(entry));
  }
  // One object on one line: valid JSON as a whole and as JSON lines.
  if (json) std::cout << document.dump() << "\n";
  return all_answered ? k_exit_done : k_exit_unreachable;
}

}  // namespace

void add_servers_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("servers", "Show every load balancer's view of the backend's servers");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  command->add_option("-c,--config", *file, "The config file (YAML)")->required();
  command->add_flag("--json", *json, "One JSON object instead of tables");
  command->footer("Exit codes: 0 every LB answered; 2 config error; 5 an LB did not answer (named on stderr).");
  command->callback([&action, file, json] {
    action = [file, json] { return show_servers(load_config(*file), *json); };
  });
}

}  // namespace lbctl::cli
