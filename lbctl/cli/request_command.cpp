#include "lbctl/cli/request_command.hpp"

#include <iostream>

#include "core/duration.hpp"
#include "core/run.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/output.hpp"
#include "lbctl/cli/wiring.hpp"

namespace lbctl::cli {

void print_journal_event(const db::Event& e, bool json) {
  const auto detail = nlohmann::json::parse(e.detail_json, nullptr, false);
  if (json) {
    std::cout << nlohmann::json{{"cutover_id", e.cutover_id}, {"step", e.step}, {"event", e.kind}, {"details", detail}}.dump()
              << "\n";
  } else if (detail.is_object() && detail.contains("text") && detail["text"].is_string()) {
    std::cout << e.step << ": " << detail["text"].get<std::string>() << "\n";
  }
  std::cout << std::flush;
}

std::shared_ptr<RequestArgs> add_request_options(CLI::App& command, const std::string& timeout_help) {
  auto args = std::make_shared<RequestArgs>();
  command.add_option("-c,--config", args->file, "The config file (YAML)")->required();
  command.add_flag("--json", args->json, "One JSON object per event");
  command.add_option("--timeout", args->timeout, timeout_help);
  return args;
}

CLI::App* add_request_command(CLI::App& app, std::function<int()>& action, RequestCommand command) {
  auto* sub = app.add_subcommand(command.name, command.description);
  auto args = add_request_options(*sub, command.timeout_help);
  sub->footer(command.footer);
  sub->callback([&action, args, request = std::move(command.request)] {
    action = [args, request] { return run_request(*args, request); };
  });
  return sub;
}

int run_request(const RequestArgs& args, const RequestFunction& request) {
  const Config config = load_config(args.file);
  FollowOptions options;
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
  options.on_event = [json = args.json](const db::Event& e) { print_journal_event(e, json); };
  CommandReporting reporting(config, args.json, wiring.poster(), wiring.clock(), io.get_executor());
  auto run_and_notify = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await request(wiring.deps(reporting.sink()), options);
    co_await reporting.flush();
    co_return outcome;
  };
  const auto outcome = run_to_end(io, run_and_notify());
  if (outcome.outcome == Outcome::done) std::cout << outcome.message << "\n";
  else std::cerr << "lbctl: " << outcome.message << "\n";
  return exit_code_for(outcome.outcome);
}

}  // namespace lbctl::cli
