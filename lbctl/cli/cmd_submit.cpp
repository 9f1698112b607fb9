// `lbctl submit -c FILE [--release R] [--wait] [--queue] [--json]`: asks the
// agents (`lbctl agent`) for a cutover through the state database, and with
// --wait follows it to its end like `lbctl cutover`, with its exit code.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>

#include "core/run.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/output.hpp"
#include "lbctl/cli/release.hpp"
#include "lbctl/cli/request_command.hpp"
#include "lbctl/cli/who.hpp"
#include "lbctl/cli/wiring.hpp"
#include "lbctl/cutover/agent.hpp"

namespace lbctl::cli {

namespace asio = boost::asio;

namespace {

struct SubmitArgs {
  std::string file;
  std::string release;
  bool wait = false;
  bool queue = false;
  bool json = false;
};

void print_line(bool json, const nlohmann::json& line, const std::string& text) {
  if (json) std::cout << line.dump() << "\n";
  else std::cout << text << "\n";
  std::cout << std::flush;
}

// Ctrl-C (or SIGTERM) while waiting stops following, never the cutover.
asio::awaitable<CutoverOutcome> until_interrupted(asio::awaitable<CutoverOutcome> task, std::int64_t request_id) {
  auto executor = co_await asio::this_coro::executor;
  auto signals = std::make_shared<asio::signal_set>(executor, SIGINT, SIGTERM);
  signals->async_wait([request_id](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::cerr << fmt::format("\nlbctl: stopped following request {}; it goes on (`lbctl status` follows it)\n",
                             request_id);
    std::_Exit(130);
  });
  auto outcome = co_await std::move(task);
  boost::system::error_code ignored;
  signals->cancel(ignored);
  co_return outcome;
}

int run_submit(const SubmitArgs& args) {
  const Config config = load_config(args.file);
  auto release = given_release(args.release, config);
  if (!release) {
    std::cerr << "lbctl: " << release.error().message << "\n";
    return exit_code_for(release.error());
  }
  asio::io_context io;
  Wiring wiring(config, io);
  if (auto opened = wiring.open_journal(); !opened) {
    std::cerr << "lbctl: " << opened.error().message << "\n";
    return exit_code_for(opened.error());
  }
  db::NewRequest request;
  request.service = config.service;
  request.release = *release;
  request.requested_by = who_runs_this();
  request.config_digest = config_digest(config);
  request.queue = args.queue;
  auto submitted = wiring.journal().submit_request(request);
  if (!submitted) {
    if (args.json) {
      print_line(true, {{"event", "exit"}, {"exit_code", exit_code_for(submitted.error())},
                        {"message", submitted.error().message}}, "");
    }
    std::cerr << "lbctl: " << submitted.error().message << "\n";
    return exit_code_for(submitted.error());
  }
  const auto& r = *submitted;
  print_line(args.json,
             {{"event", "submitted"}, {"request_id", r.id}, {"service", r.service}, {"release", r.release},
              {"requested_by", r.requested_by}},
             fmt::format("request {} for service {} queued{}", r.id, r.service,
                         r.release.empty() ? std::string() : " (release " + r.release + ")"));
  if (!args.wait) return k_exit_done;
  FollowOptions options;
  options.on_event = [json = args.json](const db::Event& e) { print_journal_event(e, json); };
  Reporter quiet;  // no sink: the followed events are printed from the journal
  auto deps = wiring.deps(quiet);
  std::function<void(const db::CutoverRequest&)> on_taken = [json = args.json](const db::CutoverRequest& taken) {
    print_line(json, {{"event", "taken"}, {"request_id", taken.id}, {"cutover_id", taken.cutover_id}, {"agent", taken.agent}},
               fmt::format("request {} taken by {}: cutover {}", taken.id, taken.agent, taken.cutover_id));
  };
  const auto outcome = run_to_end(io, until_interrupted(wait_for_request(deps, r.id, options, on_taken), r.id));
  const int code = exit_code_for(outcome.outcome);
  if (args.json) {
    print_line(true, {{"event", "exit"}, {"cutover_id", outcome.cutover_id}, {"exit_code", code}, {"message", outcome.message}},
               "");
  } else if (outcome.outcome == Outcome::done) {
    std::cout << outcome.message << "\n";
  } else {
    std::cerr << "lbctl: " << outcome.message << "\n";
  }
  return code;
}

}  // namespace

void add_submit_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<SubmitArgs>();
  auto* submit = app.add_subcommand("submit", "Ask the agents (`lbctl agent`) for a cutover of the service");
  submit->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  submit->add_option("--release", args->release,
                     "The release to deploy (1-64 of A-Za-z0-9._-; wins over the config's release:). Default: "
                     "r<cutover id>");
  submit->add_flag("--wait", args->wait,
                   "Follow the cutover to its end and exit with its code (0, 1, 3) as `lbctl cutover` would; "
                   "Ctrl-C stops following, not the cutover");
  submit->add_flag("--queue", args->queue, "Queue behind the service's unfinished cutover or queued request");
  submit->add_flag("--json", args->json, "One JSON object per line");
  submit->footer(
      "Prints the request's id. Refused (exit 4) while the service has an unfinished cutover or a queued\n"
      "request, unless --queue. The agent runs the request with its own config for the service (a warning\n"
      "event says so when the submitter's differs). Exit codes with --wait: 0 completed; 1 rolled back (or\n"
      "stopped before any change); 3 needs an operator; 2 usage; 4 refused; 5 state database unreachable.");
  submit->callback([&action, args] { action = [args] { return run_submit(*args); }; });
}

}  // namespace lbctl::cli
