// `lbctl history -c FILE [--json] [--limit N]`: the service's past cutovers
// and restores, from the journal, so from any machine.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/time_format.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/table.hpp"
#include "lbctl/cli/restore_report.hpp"
#include "lbctl/cutover/progress.hpp"

namespace lbctl::cli {

namespace {

using std::chrono::milliseconds;

struct HistoryArgs {
  std::string file;
  bool json = false;
  std::size_t limit = 20;
};

std::string iso(db::JournalTime t) { return format_time(t, TimeFormat::iso); }

// How long it ran: to its end, or to its last sign of life when it stopped
// unfinished, or until now while it runs.
milliseconds duration_of(const db::Cutover& c) {
  const db::JournalTime end = c.finished_at                            ? *c.finished_at
                              : c.status == db::CutoverStatus::running ? std::chrono::system_clock::now()
                                                                       : c.heartbeat_at;
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(end - c.started_at));
}

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

// Each step's time, in the order the steps first ran, from the journaled
// step_started / step_done events (a step run again after a reload or a
// resume adds up; one that never finished counts to the cutover's end).
std::vector<std::pair<std::string, milliseconds>> step_durations(db::Journal& journal, const db::Cutover& c) {
  std::vector<std::pair<std::string, milliseconds>> steps;
  auto events = journal.events(c.id, 0, 100000);
  if (!events) return steps;
  std::map<std::string, db::JournalTime> open;
  auto add = [&](const std::string& step, milliseconds d) {
    auto it = std::find_if(steps.begin(), steps.end(), [&](const auto& s) { return s.first == step; });
    if (it == steps.end()) steps.emplace_back(step, std::max(d, milliseconds(0)));
    else it->second += std::max(d, milliseconds(0));
  };
  for (const auto& e : *events) {
    if (e.kind == "step_started") {
      open[e.step] = e.at;
      add(e.step, milliseconds(0));
    } else if (e.kind == "step_done" && open.contains(e.step)) {
      add(e.step, std::chrono::duration_cast<milliseconds>(e.at - open[e.step]));
      open.erase(e.step);
    }
  }
  const auto end = c.started_at + duration_of(c);
  for (const auto& [step, since] : open) add(step, std::chrono::duration_cast<milliseconds>(end - since));
  return steps;
}

nlohmann::json steps_json(const std::vector<std::pair<std::string, milliseconds>>& steps) {
  auto out = nlohmann::json::array();
  for (const auto& [step, d] : steps) out.push_back({{"step", step}, {"duration_ms", d.count()}});
  return out;
}

std::string steps_text(const std::vector<std::pair<std::string, milliseconds>>& steps) {
  std::string out;
  for (const auto& [step, d] : steps) out += (out.empty() ? "" : ",") + step + ":" + human(d);
  return out;
}

// Who promoted it (`lbctl promote`'s user@host, or auto_promote_after) and
// who undid it after the promotion; "" when nobody.
struct Deciders {
  std::string promoted_by;
  std::string undone_by;
};

Deciders deciders_of(const db::Cutover& c) {
  const auto progress = read_progress(c.progress_json);
  if (!progress) return {};
  return {progress->promoted_by, progress->undone_by};
}

std::string deciders_text(const Deciders& d) {
  std::string out;
  if (!d.promoted_by.empty()) out = "promoted by " + d.promoted_by;
  if (!d.undone_by.empty()) out += (out.empty() ? "" : "; ") + std::string("undone by ") + d.undone_by;
  return out;
}

nlohmann::json or_null(const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json(text); }

nlohmann::json to_json(const db::Cutover& c) {
  nlohmann::json j = {{"id", c.id},
                      {"service", c.service},
                      {"release", c.release},
                      {"old_release", c.old_release},
                      {"status", db::to_string(c.status)},
                      {"step", c.step},
                      {"mode", c.mode},
                      {"host", c.host},
                      {"pid", c.pid},
                      {"started_at", iso(c.started_at)},
                      {"finished_at", c.finished_at ? nlohmann::json(iso(*c.finished_at)) : nlohmann::json()},
                      {"duration_ms", duration_of(c).count()},
                      {"error", c.error.empty() ? nlohmann::json() : nlohmann::json(c.error)}};
  if (c.abort_requested_at) j["abort_requested_at"] = iso(*c.abort_requested_at);
  const auto deciders = deciders_of(c);
  j["promoted_by"] = or_null(deciders.promoted_by);
  j["undone_by"] = or_null(deciders.undone_by);
  return j;
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
      auto j = to_json(c);
      j["steps"] = steps_json(step_durations(**journal, c));
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
    if (const auto steps = step_durations(**journal, c); !steps.empty()) std::cout << " steps=" << steps_text(steps);
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
