// `lbctl cutover` and `lbctl resume`: run a cutover (or finish an
// interrupted one) with the real adapters, reporting as it goes.

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>

#include "core/run.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/output.hpp"
#include "lbctl/cutover/cutover.hpp"
#include "lbctl/cli/plan_render.hpp"
#include "lbctl/cli/release.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "lbctl/cli/wiring.hpp"

namespace lbctl::cli {

namespace asio = boost::asio;

namespace {

struct CutoverArgs {
  std::string file;
  bool json = false;
  bool yes = false;
  bool no_backup = false;
  std::string release;
};

// The first SIGINT/SIGTERM asks the cutover to roll back (as `lbctl abort`
// would), through a flag the run reads: nothing waits for the state
// database, and a run riding out its loss ends at once, the LBs as they
// are. A second one leaves at once, and `lbctl resume` or `lbctl abort`
// finish later (from anywhere, once the lease has run out).
asio::awaitable<CutoverOutcome> with_signals(asio::awaitable<CutoverOutcome> task, std::shared_ptr<bool> interrupted) {
  auto executor = co_await asio::this_coro::executor;
  auto signals = std::make_shared<asio::signal_set>(executor, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [signals, interrupted, &on_signal](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (*interrupted) {
      std::cerr << "\nlbctl: stopped; the cutover is interrupted: run `lbctl resume` or `lbctl abort`\n";
      std::_Exit(k_exit_operator);
    }
    *interrupted = true;
    std::cerr << "\nlbctl: rolling back (interrupt again to stop at once and leave it for `lbctl resume`)\n";
    signals->async_wait(on_signal);
  };
  signals->async_wait(on_signal);
  auto outcome = co_await std::move(task);
  boost::system::error_code ignored;
  signals->cancel(ignored);
  co_return outcome;
}

// The run, then the webhooks it left in flight (at most their timeout).
asio::awaitable<CutoverOutcome> then_flush_webhooks(asio::awaitable<CutoverOutcome> task, CommandReporting& reporting) {
  auto outcome = co_await std::move(task);
  co_await reporting.flush();
  co_return outcome;
}

int finish_with(const CutoverOutcome& outcome, bool json) {
  if (json) {
    nlohmann::json line = {{"event", "exit"}, {"cutover_id", outcome.cutover_id}, {"exit_code", exit_code_for(outcome.outcome)},
                           {"message", outcome.message}};
    std::cout << line.dump() << "\n";
  } else if (outcome.outcome != Outcome::done) {
    std::cerr << "lbctl: " << outcome.message << "\n";
  }
  return exit_code_for(outcome.outcome);
}

int run(const CutoverArgs& args, bool resume) {
  const Config config = load_config(args.file);
  auto release = given_release(args.release, config);
  if (!release) {
    std::cerr << "lbctl: " << release.error().message << "\n";
    return exit_code_for(release.error());
  }
  raise_open_file_limit();
  asio::io_context io;
  Wiring wiring(config, io);
  // Every run reads every LB first: their ssh handshakes overlap opening the journal.
  wiring.fleet().connect_early();
  if (auto opened = wiring.open_journal(); !opened) {
    std::cerr << "lbctl: " << opened.error().message << "\n";
    return exit_code_for(opened.error());
  }
  if (!resume && !args.yes && !args.json && interactive()) {
    auto shown = planned_release(args.release, config, wiring.journal());
    if (!shown) {
      std::cerr << "lbctl: " << shown.error().message << "\n";
      return exit_code_for(shown.error());
    }
    auto report = run_to_end(
        io, gather_plan(config, wiring.fleet(), wiring.provider(), wiring.migrator(), id_floor(wiring.journal(), config.service, 0), *shown));
    if (!report) {
      std::cerr << "lbctl: " << report.error().message << "\n";
      return exit_code_for(Error{report.error().kind, ""});
    }
    std::cout << render_plan(*report, config);
    if (!confirm("Start the cutover?")) {
      std::cerr << "lbctl: not started; nothing changed\n";
      return k_exit_failed;
    }
  }
  CommandReporting reporting(config, args.json, wiring.poster(), wiring.clock(), io.get_executor());
  CutoverOptions options;
  options.no_backup = args.no_backup;
  auto deps = wiring.deps(reporting.sink());
  deps.release = *release;
  deps.interrupted = std::make_shared<bool>(false);
  auto task = resume ? resume_cutover(deps) : run_cutover(deps, options);
  const auto outcome = run_to_end(io, then_flush_webhooks(with_signals(std::move(task), deps.interrupted), reporting));
  const int code = finish_with(outcome, args.json);
  // A journal call still hanging on a database that does not answer is not
  // waited for (at most state.partition_timeout): the outcome is final.
  if (!wiring.journal_settles(std::chrono::milliseconds(500))) {
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(code);
  }
  return code;
}

}  // namespace

void add_cutover_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<CutoverArgs>();
  auto* cutover = app.add_subcommand("cutover", "Replace the old pool with a new one on every load balancer");
  cutover->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  cutover->add_flag("--json", args->json, "One JSON object per event, on stdout");
  cutover->add_flag("--yes,-y", args->yes, "Do not show the plan and ask first (on a terminal)");
  cutover->add_flag("--no-backup", args->no_backup, "Migrate without running migrations.backup (says so)");
  cutover->add_option("--release", args->release,
                      "The release deployed (1-64 of A-Za-z0-9._-; wins over the config's release:); names the new "
                      "servers through {release} in new_pool.name_prefix. Default: r<cutover id>");
  cutover->footer(
      "Steps: " + step_names(CutoverMode::blue_green) + ".\nA failure from freeze to detach rolls back by itself.\n"
      "mode: maintenance (" + step_names(CutoverMode::maintenance) + ")\nswaps the pools behind a 503 page with both "
      "migration phases in one transaction.\n"
      "Ctrl-C asks for a rollback (with the state database out of reach it stops at once, the LBs as they\n"
      "are); twice leaves it interrupted for `lbctl resume` or `lbctl abort` (from anywhere, once the lease ran out).\n" +
      cutover_exit_codes_folded());
  cutover->callback([&action, args] { action = [args] { return run(*args, false); }; });

  auto* resume = app.add_subcommand("resume", "Finish the service's interrupted cutover from its journal");
  resume->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  resume->add_flag("--json", args->json, "One JSON object per event, on stdout");
  resume->footer("Looks at the load balancers first, then goes on from the journaled step (or finishes a rollback).\n"
                 "Exit codes as for cutover.");
  resume->callback([&action, args] { action = [args] { return run(*args, true); }; });
}

}  // namespace lbctl::cli
