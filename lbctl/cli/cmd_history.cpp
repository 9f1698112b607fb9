// `lbctl history -c FILE [--json] [--limit N]`: the service's past cutovers
// and restores, from the journal, so from any machine.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/time_format.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/table.hpp"
#include "lbctl/cli/restore_report.hpp"
#include "lbctl/cutover/history.hpp"

namespace lbctl::cli {

namespace {

using std::chrono::milliseconds;

struct HistoryArgs {
  std::string file;
  bool json = false;
  std::size_t limit = 20;
};

std::string iso(db::JournalTime t) { return format_time(t, TimeFormat::iso); }

// 850ms, 12.3s, 4m05s, 2h03m
std::string human(milliseconds d) {
  const auto s = d.count() / 1000;
  char buffer[32];
  if (d.count() < 1000) return std::to_string(d.count()) + "ms";
  if (s < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1fs", static_cast<double>(d.count()) / 1000.0);
  } else if (s < 3600) {
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>((s % 3600) / 60));
  }
  return buffer;
}

// Errors can span lines (Postgres context); one line per cutover.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// Each step's time, and the agents in its life, from the cutover's events.
std::pair<StepDurations, AgentTrail> history_steps(db::Journal& journal, const db::Cutover& c) {
  auto events = journal.events(c.id, 0, 100000);
  if (!events) return {};
  return {step_durations(*events, c), agent_trail(*events)};
}

std::string steps_text(const StepDurations& steps) {
  std::string out;
  for (const auto& [step, d] : steps) out += (out.empty() ? "" : ",") + step + ":" + human(d);
  return out;
}

std::string deciders_text(const Deciders& d) {
  std::string out;
  if (!d.promoted_by.empty()) out = "promoted by " + d.promoted_by;
  if (!d.undone_by.empty()) out += (out.empty() ? "" : "; ") + std::string("undone by ") + d.undone_by;
  return out;
}

int show_history(const HistoryArgs& args) {
  const Config config = load_config(args.file);
  auto journal = db::PgJournal::open(journal_options(config));
  if (!journal) {
    std::cerr << "error: " << journal.error().message << "\n";
    return exit_code_for(journal.error());
  }
  auto cutovers = (*journal)->history(config.service, args.limit);
  if (!cutovers) {
    std::cerr << "error: " << cutovers.error().message << "\n";
    return exit_code_for(cutovers.error());
  }
  auto restores = (*journal)->restores(config.service, args.limit);
  if (!restores) {
    std::cerr << "error: " << restores.error().message << "\n";
    return exit_code_for(restores.error());
  }
  // Restores come after the cutovers, newest first, one line each ("restore N ...").
  const auto show_restores = [&] {
    for (const auto& r : *restores) {
      std::cout << (args.json ? restore_history_json(r).dump() : restore_history_line(r)) << "\n";
    }
    return k_exit_done;
  };
  if (args.json) {
    for (const auto& c : *cutovers) {
      auto j = history_json(c);
      const auto [steps, trail] = history_steps(**journal, c);
      j["steps"] = steps_json(steps);
      add_agent_trail(j, trail);
      std::cout << j.dump() << "\n";
    }
    return show_restores();
  }
  if (cutovers->empty()) {
    std::cout << "no cutovers recorded for service " << config.service << "\n";
    return k_exit_done;
  }
  if (stdout_is_terminal()) {
    Table table({"ID", "RELEASE", "OLD RELEASE", "STATUS", "STARTED", "DURATION", "STEP", "HOST", "DECIDED", "ERROR"});
    for (const auto& c : *cutovers) {
      const auto decided = deciders_text(deciders_of(c));
      table.add({std::to_string(c.id), c.release, c.old_release.empty() ? "-" : c.old_release,
                 std::string(db::to_string(c.status)), db::format_utc(c.started_at), human(duration_of(c)), c.step,
                 c.host + ":" + std::to_string(c.pid), decided.empty() ? "-" : decided, one_line(c.error)});
    }
    std::cout << table.render();
    return show_restores();
  }
  for (const auto& c : *cutovers) {
    std::cout << c.id << " " << db::to_string(c.status) << " release=" << (c.release.empty() ? "-" : c.release)
              << " old_release=" << (c.old_release.empty() ? "-" : c.old_release) << " started=" << iso(c.started_at)
              << " duration=" << human(duration_of(c)) << " step=" << c.step << " host=" << c.host << " pid=" << c.pid;
    const auto deciders = deciders_of(c);
    if (!deciders.promoted_by.empty()) std::cout << " promoted_by=" << one_line(deciders.promoted_by);
    if (!deciders.undone_by.empty()) std::cout << " undone_by=" << one_line(deciders.undone_by);
    const auto [steps, trail] = history_steps(**journal, c);
    if (trail.request_id != 0) std::cout << " request=" << trail.request_id << " agent=\"" << trail.agent << "\"";
    for (const auto& by : trail.taken_over_by) std::cout << " taken_over_by=\"" << by << "\"";
    if (!steps.empty()) std::cout << " steps=" << steps_text(steps);
    if (!c.error.empty()) std::cout << " error=" << one_line(c.error);
    std::cout << "\n";
  }
  return show_restores();
}

}  // namespace

void add_history_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("history", "List the service's past cutovers, then its restores, newest first");
  auto args = std::make_shared<HistoryArgs>();
  command->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  command->add_flag("--json", args->json,
                    "One JSON object per cutover (then per restore, \"kind\": \"restore\"), one per line");
  command->add_option("--limit", args->limit, "How many cutovers (and restores) to show (default 20)")
      ->check(CLI::Range(1, 10000));
  command->footer("Exit codes: 0 shown; 2 config error; 5 the state database was unreachable.");
  command->callback([&action, args] { action = [args] { return show_history(*args); }; });
}

}  // namespace lbctl::cli
