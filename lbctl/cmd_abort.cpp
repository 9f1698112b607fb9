// `lbctl abort -c FILE`: roll back the service's cutover. A running one sees
// the request within one poll and rolls back itself; one whose process is
// gone is rolled back here.

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "core/run.hpp"
#include "lbctl/cli.hpp"
#include "lbctl/db_setup.hpp"
#include "lbctl/exit_codes.hpp"
#include "lbctl/output.hpp"
#include "lbctl/wiring.hpp"

namespace lbctl::cli {

namespace {

using namespace std::chrono_literals;

int after_rollback(db::CutoverStatus status, const std::string& error) {
  switch (status) {
    case db::CutoverStatus::rolled_back:
      std::cout << "rolled back" << (error.empty() ? "" : ": " + error) << "\n";
      return k_exit_done;
    case db::CutoverStatus::completed:
      std::cerr << "lbctl: the cutover completed before it could roll back\n";
      return k_exit_failed;
    case db::CutoverStatus::needs_operator:
      std::cerr << "lbctl: " << error << "\n";
      return k_exit_operator;
    default:
      return k_exit_failed;
  }
}

int abort_cutover(const std::string& file, bool json) {
  const Config config = load_config(file);
  boost::asio::io_context io;
  Wiring wiring(config, io);
  if (auto opened = wiring.open_journal(); !opened) {
    std::cerr << "lbctl: " << opened.error().message << "\n";
    return exit_code_for(opened.error());
  }
  auto& journal = wiring.journal();
  auto latest = journal.latest(config.service);
  if (!latest) {
    std::cerr << "lbctl: " << latest.error().message << "\n";
    return exit_code_for(latest.error());
  }
  if (!*latest || db::is_finished((*latest)->status)) {
    std::cerr << "lbctl: no cutover of service " << config.service << " to abort"
              << (*latest ? " (the last one is " + std::string(db::to_string((*latest)->status)) + ")" : "") << "\n";
    return k_exit_usage;
  }
  const std::int64_t id = (*latest)->id;
  if ((*latest)->status == db::CutoverStatus::running) {
    if (auto asked = journal.request_abort(config.service); !asked) {
      std::cerr << "lbctl: " << asked.error().message << "\n";
      return exit_code_for(asked.error());
    }
    std::cout << "abort requested: cutover " << id << " (" << (*latest)->host << ", pid " << (*latest)->pid
              << ", step " << (*latest)->step << ") rolls back at its next poll\n"
              << std::flush;
    std::int64_t seen = 0;
    for (;;) {
      std::this_thread::sleep_for(500ms);
      if (auto events = journal.events(id, seen, 100); events) {
        for (const auto& e : *events) {
          seen = e.id;
          const auto detail = nlohmann::json::parse(e.detail_json, nullptr, false);
          if (json) {
            std::cout << nlohmann::json{{"cutover_id", id}, {"step", e.step}, {"event", e.kind}, {"details", detail}}.dump()
                      << "\n";
          } else if (detail.is_object() && detail.contains("text")) {
            std::cout << e.step << ": " << detail["text"].get<std::string>() << "\n";
          }
        }
        std::cout << std::flush;
      }
      auto row = journal.get(id);
      if (!row) continue;
      if (row->status == db::CutoverStatus::running) continue;
      if (row->status != db::CutoverStatus::interrupted) return after_rollback(row->status, row->error);
      std::cout << "its process is gone: rolling back here\n";
      break;
    }
  }
  CommandReporting reporting(config, json, wiring.poster(), wiring.clock(), io.get_executor());
  auto roll_back_and_notify = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await rollback_cutover(wiring.deps(reporting.sink()));
    co_await reporting.flush();
    co_return outcome;
  };
  const auto outcome = run_to_end(io, roll_back_and_notify());
  auto row = journal.get(id);
  if (!row) {
    std::cerr << "lbctl: " << outcome.message << "\n";
    return outcome.exit_code;
  }
  if (outcome.exit_code == k_exit_locked || outcome.exit_code == k_exit_unreachable) {
    std::cerr << "lbctl: " << outcome.message << "\n";
    return outcome.exit_code;
  }
  if (row->status == db::CutoverStatus::needs_operator || outcome.exit_code == k_exit_operator) {
    std::cerr << "lbctl: " << outcome.message << "\n";
    return k_exit_operator;
  }
  return after_rollback(row->status, row->error);
}

}  // namespace

void add_abort_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("abort", "Roll back the service's running or interrupted cutover (also: rollback)");
  command->alias("rollback");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  command->add_option("-c,--config", *file, "The config file (YAML)")->required();
  command->add_flag("--json", *json, "One JSON object per event");
  command->footer("A running cutover rolls back at its next poll and this waits for it; one whose process died is\n"
                  "rolled back here. Refused past the point of no return (post-migrations committed).\n"
                  "Exit codes: 0 rolled back; 1 it completed first; 2 nothing to abort; 3 needs an operator;\n"
                  "4 locked by a live process that did not answer; 5 unreachable.");
  command->callback([&action, file, json] { action = [file, json] { return abort_cutover(*file, *json); }; });
}

}  // namespace lbctl::cli
