// `lbctl servers -c FILE [--json]`: every LB's view of the backend's servers,
// and its drift from what lbctl last recorded there (the journal) and from
// its persisted file.

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/run.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cutover/fleet_look.hpp"
#include "lbctl/cli/lb_table.hpp"
#include "lbctl/cli/wiring.hpp"

namespace lbctl::cli {

namespace {

// The journal's records, or why drift against them cannot be measured (the
// servers are shown either way).
boost::asio::awaitable<FleetLook> look(Wiring& wiring) {
  if (auto opened = wiring.open_journal(); !opened) {
    co_return co_await look_at_fleet(wiring.config(), wiring.fleet(), std::nullopt, opened.error().message);
  }
  auto records = wiring.journal().lb_records(wiring.config().service);
  if (!records) co_return co_await look_at_fleet(wiring.config(), wiring.fleet(), std::nullopt, records.error().message);
  co_return co_await look_at_fleet(wiring.config(), wiring.fleet(), *records, "");
}

int show_servers(const Config& config, bool json) {
  boost::asio::io_context io;
  Wiring wiring(config, io);
  const auto fleet = run_to_end(io, look(wiring));
  bool all_answered = true;
  nlohmann::json document = {{"service", config.service}, {"load_balancers", nlohmann::json::array()}};
  if (!fleet.journal_note.empty()) document["drift_note"] = "not compared with the journal: " + fleet.journal_note;
  for (std::size_t i = 0; i < fleet.lbs.size(); ++i) {
    const auto& lb = config.load_balancers[i];
    const auto& look = fleet.lbs[i];
    nlohmann::json entry = {{"name", lb.name}, {"backend", lb.backend}, {"drift", look.drift}};
    if (!look.live) {
      all_answered = false;
      entry["error"] = look.error;
      if (!json) std::cerr << "error: " << look.error << "\n";
      document["load_balancers"].push_back(std::move(entry));
      continue;
    }
    const LbView view = lb_view(lb.name, look.live->stats, {});
    const std::string& version = wiring.fleet().at(i).version().text;
    entry["haproxy_version"] = version;
    entry["servers"] = view.servers;
    if (!json) {
      std::cout << lb.name << " (backend " << lb.backend << ", " << lb.runtime_api.to_string() << ", HAProxy "
                << (version.empty() ? std::string("version not said") : version) << "): " << view.servers.size()
                << " servers\n"
                << render_lb_view(view, "  ");
      for (const auto& d : look.drift) std::cout << "  drift: " << d.text << "\n";
    }
    document["load_balancers"].push_back(std::move(entry));
  }
  if (!json && fleet.any_drift()) std::cout << "`lbctl reconcile` brings them back to what lbctl recorded\n";
  if (!json && !fleet.journal_note.empty()) std::cerr << "note: drift not compared with the journal: " << fleet.journal_note << "\n";
  // One object on one line: valid JSON as a whole and as JSON lines.
  if (json) std::cout << document.dump() << "\n";
  return all_answered ? k_exit_done : k_exit_unreachable;
}

}  // namespace

void add_servers_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("servers", "Show every load balancer's view of the backend's servers, and drift");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  command->add_option("-c,--config", *file, "The config file (YAML)")->required();
  command->add_flag("--json", *json, "One JSON object instead of tables");
  command->footer("Drift: what differs from what lbctl last recorded (the journal) and from the persisted file.\n"
                  "Exit codes: 0 every LB answered; 2 config error; 5 an LB did not answer (named on stderr).");
  command->callback([&action, file, json] {
    action = [file, json] { return show_servers(load_config(*file), *json); };
  });
}

}  // namespace lbctl::cli
