// `lbctl reconcile -c FILE [--yes] [--json]`: every LB (and persisted file)
// back to what lbctl last recorded there, after showing what it will do.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>
#include <unistd.h>

#include "core/run.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cutover/fleet_look.hpp"
#include "lbctl/cli/output.hpp"
#include "lbctl/cutover/reconcile.hpp"
#include "lbctl/cli/wiring.hpp"

namespace lbctl::cli {

namespace {

namespace asio = boost::asio;

struct ReconcileArgs {
  std::string file;
  bool yes = false;
  bool json = false;
};

asio::awaitable<FleetLook> look_recorded(Wiring& wiring) {
  auto records = wiring.journal().lb_records(wiring.config().service);
  if (!records) co_return co_await look_at_fleet(wiring.config(), wiring.fleet(), std::nullopt, records.error().message);
  co_return co_await look_at_fleet(wiring.config(), wiring.fleet(), *records, "");
}

// Reconciles every LB that has something to restore, all at once; the
// failures, one per LB, in words.
asio::awaitable<std::vector<std::string>> reconcile_all(Wiring& wiring, FleetLook before) {
  std::vector<std::string> failures;
  const Config& config = wiring.config();
  for (std::size_t i = 0; i < wiring.fleet().size(); ++i) {
    wiring.fleet().at(i).set_patience(config.load_balancers[i].unreachable_timeout);
  }
  std::vector<asio::awaitable<Result<void>>> tasks;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < before.lbs.size(); ++i) {
    auto& lb = wiring.fleet().at(i);
    const auto& entry = before.lbs[i];
    if (entry.drift.empty() || !entry.live) continue;
    auto target = co_await target_of(entry, lb, config);
    if (!target) {
      failures.push_back(fmt::format("{}: lbctl has no record of what it left there, and no persisted file to "
                                     "read it from",
                                     lb.name()));
      continue;
    }
    tasks.push_back(reconcile_lb(lb, std::move(*target), *entry.live, config));
    names.push_back(lb.name());
  }
  auto results = co_await when_all(std::move(tasks));
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) failures.push_back(results[i].error().message);
  }
  co_return failures;
}

int reconcile(const ReconcileArgs& args) {
  const Config config = load_config(args.file);
  asio::io_context io;
  Wiring wiring(config, io);
  if (auto opened = wiring.open_journal(); !opened) {
    std::cerr << "lbctl: " << opened.error().message << "\n";
    return exit_code_for(opened.error());
  }
  // Not while a cutover runs, or one waits for `resume` or `abort`.
  if (auto locked = wiring.journal().lock_service(config.service, this_host(), static_cast<int>(::getpid())); !locked) {
    std::cerr << "lbctl: " << locked.error().message << "\n";
    return exit_code_for(locked.error());
  }
  const auto before = run_to_end(io, look_recorded(wiring));
  nlohmann::json report = {{"service", config.service}, {"drift_before", before.all_drift()}};
  std::string unreachable;
  for (const auto& lb : before.lbs) {
    if (!lb.live) unreachable += (unreachable.empty() ? "" : "; ") + lb.error;
  }
  if (!unreachable.empty()) {
    std::cerr << "lbctl: " << unreachable << "; nothing changed\n";
    return k_exit_unreachable;
  }
  auto actions = nlohmann::json::array();
  std::string text;
  for (std::size_t i = 0; i < before.lbs.size(); ++i) {
    for (const auto& action : reconcile_actions(before.lbs[i], wiring.fleet().at(i).persisted_file() != nullptr)) {
      actions.push_back({{"lb", before.lbs[i].lb}, {"action", action}});
      text += fmt::format("  {}: {}\n", before.lbs[i].lb, action);
    }
  }
  report["actions"] = actions;
  if (!before.any_drift()) {
    report["exit_code"] = k_exit_done;
    if (args.json) std::cout << report.dump() << "\n";
    else std::cout << "every load balancer holds what lbctl last recorded; nothing to do\n";
    return k_exit_done;
  }
  if (!args.json) {
    std::cout << "drift:\n";
    for (const auto& d : before.all_drift()) std::cout << "  " << d.text << "\n";
    std::cout << "reconcile would:\n" << text;
  }
  if (!args.yes && !(interactive() && !args.json && confirm("Reconcile?"))) {
    std::cerr << "lbctl: not reconciled; nothing changed" << (interactive() ? "" : " (give --yes)") << "\n";
    return k_exit_failed;
  }
  const auto failures = run_to_end(io, reconcile_all(wiring, before));
  const auto after = run_to_end(io, look_recorded(wiring));
  if (failures.empty() && !after.any_drift()) {
    if (auto recorded = run_to_end(io, record_fleet(wiring.fleet(), wiring.journal(), config.service, 0)); !recorded) {
      std::cerr << "lbctl: warning: could not record the result: " << recorded.error().message << "\n";
    }
  }
  wiring.journal().release();
  report["drift_after"] = after.all_drift();
  report["failures"] = failures;
  const int code = failures.empty() && !after.any_drift() ? k_exit_done : k_exit_operator;
  report["exit_code"] = code;
  if (args.json) {
    std::cout << report.dump() << "\n";
  } else if (code == k_exit_done) {
    std::cout << "reconciled: every load balancer holds what lbctl last recorded\n";
  } else {
    for (const auto& failure : failures) std::cerr << "lbctl: " << failure << "\n";
    for (const auto& d : after.all_drift()) std::cerr << "lbctl: still drifted: " << d.text << "\n";
  }
  return code;
}

}  // namespace

void add_reconcile_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<ReconcileArgs>();
  auto* command = app.add_subcommand(
      "reconcile", "Bring every load balancer (and persisted file) back to what lbctl last recorded there");
  command->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  command->add_flag("--yes,-y", args->yes, "Do it without asking");
  command->add_flag("--json", args->json, "One JSON object: drift before, actions, drift after, exit code");
  command->footer(
      "Shows the drift and what it would do, then asks (or --yes). Missing servers are added back in the safe\n"
      "order (MAINT, HAProxy's check, then their recorded state), states and weights restored, servers that\n"
      "should not be there taken out and deleted, persisted files rewritten. Takes the service lock.\n"
      "Exit codes: 0 every LB agrees afterwards (or already did); 1 not confirmed, nothing changed; 2 config\n"
      "error; 3 it could not bring every LB back (what is left is named); 4 a cutover holds the lock or waits\n"
      "for resume/abort; 5 an LB or the state database was unreachable before any change.");
  command->callback([&action, args] { action = [args] { return reconcile(*args); }; });
}

}  // namespace lbctl::cli
