// `lbctl abort -c FILE [--timeout DURATION]` (also `lbctl rollback`): roll
// back the service's cutover. A running one sees the request within one poll
// and rolls back itself, and this follows it; one whose process is gone is
// rolled back here.

#include <CLI/CLI.hpp>
#include <iostream>

#include "core/duration.hpp"
#include "core/run.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/output.hpp"
#include "lbctl/cli/wiring.hpp"
#include "lbctl/cutover/abort.hpp"

namespace lbctl::cli {

namespace {

struct AbortArgs {
  std::string file;
  bool json = false;
  std::string timeout;
};

void print_event(const db::Event& e, bool json) {
  const auto detail = nlohmann::json::parse(e.detail_json, nullptr, false);
  if (json) {
    std::cout << nlohmann::json{{"cutover_id", e.cutover_id}, {"step", e.step}, {"event", e.kind}, {"details", detail}}.dump()
              << "\n";
  } else if (detail.is_object() && detail.contains("text")) {
    std::cout << e.step << ": " << detail["text"].get<std::string>() << "\n";
  }
  std::cout << std::flush;
}

int abort_cutover_command(const AbortArgs& args) {
  const Config config = load_config(args.file);
  AbortOptions options;
  if (!args.timeout.empty()) {
    auto timeout = parse_duration(args.timeout);
    if (!timeout) {
      std::cerr << "lbctl: --timeout " << args.timeout << ": expected a duration like 30s or 5m\n";
      return k_exit_usage;
    }
    options.timeout = *timeout;
  }
  boost::asio::io_context io;
  Wiring wiring(config, io);
  if (auto opened = wiring.open_journal(); !opened) {
    std::cerr << "lbctl: " << opened.error().message << "\n";
    return exit_code_for(opened.error());
  }
  options.on_event = [json = args.json](const db::Event& e) { print_event(e, json); };
  CommandReporting reporting(config, args.json, wiring.poster(), wiring.clock(), io.get_executor());
  auto abort_and_notify = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await abort_cutover(wiring.deps(reporting.sink()), options);
    co_await reporting.flush();
    co_return outcome;
  };
  const auto outcome = run_to_end(io, abort_and_notify());
  if (outcome.outcome == Outcome::done) std::cout << outcome.message << "\n";
  else std::cerr << "lbctl: " << outcome.message << "\n";
  return exit_code_for(outcome.outcome);
}

}  // namespace

void add_abort_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("abort", "Roll back the service's running or interrupted cutover (also: rollback)");
  command->alias("rollback");
  auto args = std::make_shared<AbortArgs>();
  command->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  command->add_flag("--json", args->json, "One JSON object per event");
  command->add_option("--timeout", args->timeout, "Wait at most this long (30s, 5m) for a running cutover to roll back");
  command->footer("A running cutover rolls back at its next poll and this waits for it; one whose process died is\n"
                  "rolled back here. Refused past the point of no return (post-migrations committed).\n"
                  "Exit codes: 0 rolled back; 1 it completed first; 2 nothing to abort (or a usage error); 3 needs an\n"
                  "operator; 4 still rolling back after --timeout, or locked by a process that did not answer;\n"
                  "5 unreachable.");
  command->callback([&action, args] { action = [args] { return abort_cutover_command(*args); }; });
}

}  // namespace lbctl::cli
