// `lbctl status -c FILE [--watch] [--json]`: from the journal (so from any
// machine) plus every LB's live stats: the running cutover's step and time in
// it, each LB's view of each server with its sessions, the drain's progress
// and ETA; the last cutover's outcome when none runs.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/time_format.hpp"
#include <iostream>
#include <thread>

#include "core/run.hpp"
#include "db/journal.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cutover/drain_progress.hpp"
#include "lbctl/cutover/fleet_look.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/sinks.hpp"
#include "lbctl/cli/table.hpp"
#include "lbctl/cli/wiring.hpp"

namespace lbctl::cli {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

std::int64_t seconds_since(db::JournalTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - t).count();
}

// The drain's progress from the journaled drain_progress samples.
nlohmann::json drain_from_events(const std::vector<db::Event>& events) {
  DrainProgress progress(std::chrono::seconds(30));
  nlohmann::json last;
  for (const auto& e : events) {
    if (e.kind != "drain_progress") continue;
    auto detail = nlohmann::json::parse(e.detail_json, nullptr, false);
    if (!detail.is_object()) continue;
    const auto at = std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        e.at.time_since_epoch()));
    progress.add(at, detail.value("sessions_left", std::uint64_t{0}));
    last = detail;
  }
  if (last.is_null()) return nullptr;
  return progress.details();
}

nlohmann::json gather(Wiring& wiring, boost::asio::io_context& io) {
  const Config& config = wiring.config();
  auto& journal = wiring.journal();
  nlohmann::json status = {{"service", config.service}, {"cutover", nullptr}};
  auto latest = journal.latest(config.service);
  if (!latest) {
    status["error"] = latest.error().message;
    return status;
  }
  std::unordered_map<std::string, std::string> pool_of;
  if (*latest) {
    const auto& c = **latest;
    nlohmann::json cutover = {{"id", c.id},
                              {"status", std::string(db::to_string(c.status))},
                              {"step", c.step},
                              {"seconds_in_step", seconds_since(c.step_started_at)},
                              {"started_at", format_time(c.started_at, TimeFormat::iso_ms)},
                              {"host", c.host},
                              {"pid", c.pid},
                              {"heartbeat_seconds_ago", seconds_since(c.heartbeat_at)},
                              {"error", c.error}};
    if (c.finished_at) {
      cutover["finished_at"] = format_time(*c.finished_at, TimeFormat::iso_ms);
      cutover["duration_s"] = std::chrono::duration_cast<std::chrono::seconds>(*c.finished_at - c.started_at).count();
    }
    if (c.abort_requested_at) cutover["abort_requested_at"] = format_time(*c.abort_requested_at, TimeFormat::iso_ms);
    status["cutover"] = cutover;
    auto servers = nlohmann::json::array();
    if (auto records = journal.servers(c.id)) {
      for (const auto& s : *records) {
        pool_of[s.name] = std::string(db::to_string(s.pool));
        servers.push_back({{"name", s.name}, {"pool", db::to_string(s.pool)}, {"address", s.address}, {"state", s.state}});
      }
    }
    status["servers"] = servers;
    if (auto events = journal.recent_events(c.id, 200)) {
      status["drain"] = c.step == "watch" ? drain_from_events(*events) : nlohmann::json(nullptr);
      for (auto it = events->rbegin(); it != events->rend(); ++it) {
        auto detail = nlohmann::json::parse(it->detail_json, nullptr, false);
        if (detail.is_object() && detail.contains("text") && it->kind != "drain_progress") {
          status["last_event"] = {{"at", format_time(it->at, TimeFormat::iso_ms)}, {"step", it->step}, {"text", detail["text"]}};
          break;
        }
      }
    }
  }
  // Drift from what lbctl last left, unless a cutover is changing the LBs
  // right now (it notices reloads and repairs them itself).
  const bool changing = *latest && (*latest)->status == db::CutoverStatus::running;
  std::optional<std::vector<db::LbRecord>> records;
  std::string note;
  if (!changing) {
    if (auto read = journal.lb_records(config.service)) records = std::move(*read);
    else note = read.error().message;
  }
  const auto look = run_to_end(io, look_at_fleet(config, wiring.fleet(), records, note));
  auto lbs = nlohmann::json::array();
  for (const auto& lb : look.lbs) {
    nlohmann::json entry = {{"name", lb.lb}, {"drift", lb.drift}};
    if (!lb.live) {
      entry["error"] = lb.error;
    } else {
      auto servers = nlohmann::json::array();
      for (const auto& s : lb.live->stats) {
        const auto pool = pool_of.find(s.name);
        servers.push_back({{"name", s.name},
                           {"pool", pool == pool_of.end() ? "" : pool->second},
                           {"status", s.status},
                           {"sessions", s.sessions()},
                           {"check_status", s.check_status}});
      }
      entry["servers"] = servers;
    }
    lbs.push_back(entry);
  }
  status["drift"] = look.all_drift();
  if (changing) status["drift_note"] = "not measured while a cutover changes the load balancers";
  else if (!note.empty()) status["drift_note"] = "not compared with the journal: " + note;
  status["load_balancers"] = lbs;
  return status;
}

std::string render(const nlohmann::json& s) {
  std::string out;
  if (s.contains("error")) out += "state database: " + s["error"].get<std::string>() + "\n";
  const auto& c = s["cutover"];
  if (c.is_null()) {
    out += "service " + s["service"].get<std::string>() + ": no cutover has run yet\n";
  } else {
    const std::string status = c["status"];
    if (status == "running" || status == "interrupted" || status == "needs_operator") {
      out += fmt::format("cutover {} of {}: {}, step {} for {}s (host {}, pid {}, heartbeat {}s ago)\n",
                         c["id"].get<std::int64_t>(), s["service"].get<std::string>(), status,
                         c["step"].get<std::string>(), c["seconds_in_step"].get<std::int64_t>(),
                         c["host"].get<std::string>(), c["pid"].get<int>(), c["heartbeat_seconds_ago"].get<std::int64_t>());
      if (status == "interrupted") out += "  its process is gone: run `lbctl resume` to finish it or `lbctl abort` to roll it back\n";
      if (c.contains("abort_requested_at")) out += "  abort requested at " + c["abort_requested_at"].get<std::string>() + "\n";
      if (!c["error"].get<std::string>().empty()) out += "  " + c["error"].get<std::string>() + "\n";
    } else {
      out += fmt::format("last cutover {} of {}: {} in {}s (ended at step {}), started {}\n", c["id"].get<std::int64_t>(),
                         s["service"].get<std::string>(), status, c.value("duration_s", std::int64_t{0}),
                         c["step"].get<std::string>(), c["started_at"].get<std::string>());
      if (!c["error"].get<std::string>().empty()) out += "  " + c["error"].get<std::string>() + "\n";
    }
    if (s.contains("last_event")) {
      out += fmt::format("  last: {} {}: {}\n", s["last_event"]["at"].get<std::string>(),
                         s["last_event"]["step"].get<std::string>(), s["last_event"]["text"].get<std::string>());
    }
  }
  for (const auto& lb : s.value("load_balancers", nlohmann::json::array())) {
    if (lb.contains("error")) {
      out += "  " + lb["error"].get<std::string>() + "\n";
      continue;
    }
    Table table({"SERVER", "POOL", "STATUS", "SESSIONS", "CHECK"});
    for (const auto& sv : lb["servers"]) {
      table.add({sv["name"], sv["pool"].get<std::string>().empty() ? "-" : sv["pool"].get<std::string>(), sv["status"],
                 std::to_string(sv["sessions"].get<std::uint64_t>()),
                 sv["check_status"].get<std::string>().empty() ? "-" : sv["check_status"].get<std::string>()});
    }
    out += "  " + lb["name"].get<std::string>() + "\n" + table.render("    ");
  }
  if (s.contains("drain") && s["drain"].is_object()) out += "  drain " + drain_bar(s["drain"]) + "\n";
  const auto drift = s.value("drift", nlohmann::json::array());
  for (const auto& d : drift) out += "  drift: " + d["text"].get<std::string>() + "\n";
  if (!drift.empty()) out += "  `lbctl reconcile` brings the load balancers back to what lbctl recorded\n";
  return out;
}

bool active(const nlohmann::json& s) {
  if (s["cutover"].is_null()) return false;
  return s["cutover"]["status"] == "running";
}

int show_status(const std::string& file, bool watch, bool json) {
  const Config config = load_config(file);
  boost::asio::io_context io;
  Wiring wiring(config, io);
  if (auto opened = wiring.open_journal(); !opened) {
    std::cerr << "lbctl: " << opened.error().message << "\n";
    return exit_code_for(opened.error());
  }
  const bool terminal = stdout_is_terminal();
  for (;;) {
    const auto status = gather(wiring, io);
    if (json) {
      std::cout << status.dump() << "\n" << std::flush;
    } else {
      if (watch && terminal) std::cout << "\x1b[H\x1b[2J";
      std::cout << render(status) << std::flush;
    }
    if (!watch || !active(status)) break;
    std::this_thread::sleep_for(1s);
    if (!json && !terminal) std::cout << "\n";
  }
  return k_exit_done;
}

}  // namespace

void add_status_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("status", "The running cutover's progress, or the last one's outcome");
  auto file = std::make_shared<std::string>();
  auto watch = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  command->add_option("-c,--config", *file, "The config file (YAML)")->required();
  command->add_flag("--watch,-w", *watch, "Refresh every second until the cutover ends");
  command->add_flag("--json", *json, "One JSON object (per refresh with --watch)");
  command->footer("Reads the journal, so it works from any machine, and asks every load balancer.\n"
                  "Exit codes: 0 shown; 2 config error; 5 the state database is unreachable.");
  command->callback([&action, file, watch, json] { action = [file, watch, json] { return show_status(*file, *watch, *json); }; });
}

}  // namespace lbctl::cli
