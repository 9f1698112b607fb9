// `lbctl status -c FILE [--watch] [--json]`: from the journal (so from any
// machine) plus every LB's live stats: the running cutover's step and time in
// it, each LB's view of each server with its sessions, the drain's progress
// and ETA; the last cutover's outcome when none runs.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/duration.hpp"
#include "core/time_format.hpp"
#include <iostream>

#include "core/run.hpp"
#include "db/journal.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/lb_table.hpp"
#include "lbctl/cutover/service_status.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/sinks.hpp"
#include "lbctl/cli/table.hpp"
#include "lbctl/cli/wiring.hpp"

namespace lbctl::cli {

namespace {

using namespace std::chrono_literals;

std::string left_of(const nlohmann::json& j, const char* key) {
  return format_duration(std::chrono::milliseconds(j.value(key, std::int64_t{0})));
}

// The promotion gate and the undo window, one line each, when they apply.
std::string render_promotion(const nlohmann::json& p) {
  if (!p.is_object()) return "";
  const std::string state = p.value("state", std::string());
  std::string out;
  if (state == "paused") {
    out += fmt::format("  paused, waiting for promote since {} ({}): `lbctl promote` goes on, `lbctl abort` rolls back\n",
                       p.value("paused_at", std::string()), p.value("timers", std::string()));
  }
  if (p.contains("promote_requested_by")) {
    out += "  promote requested by " + p["promote_requested_by"].get<std::string>() + "\n";
  }
  if (p.contains("promoted_by")) {
    out += fmt::format("  promoted by {} at {}\n", p["promoted_by"].get<std::string>(), p.value("promoted_at", std::string()));
  }
  if (state == "undo_window") {
    out += fmt::format("  undo window open until {} ({} left): `lbctl undo` puts the old servers back\n",
                       p.value("undo_until", std::string()), left_of(p, "undo_left_ms"));
  } else if (state == "undone") {
    out += "  undone after promotion by " + p.value("undone_by", std::string()) + "\n";
  } else if (state == "closed") {
    out += "  undo window closed at " + p.value("undo_until", std::string()) + "\n";
  }
  return out;
}

std::string render_cutover(const ServiceStatus& s) {
  const auto& c = *s.cutover;
  std::string out;
  if (c.status == "running" || c.status == "interrupted" || c.status == "needs_operator") {
    out += fmt::format("cutover {} of {}: {}, step {} for {}s (host {}, pid {}, heartbeat {}s ago)\n", c.id, s.service,
                       c.status, c.step, c.seconds_in_step, c.host, c.pid, c.heartbeat_seconds_ago);
    if (c.status == "interrupted") {
      out += "  its process is gone: run `lbctl resume` to finish it or `lbctl abort` to roll it back\n";
    }
    if (!c.abort_requested_at.empty()) out += "  abort requested at " + c.abort_requested_at + "\n";
  } else {
    out += fmt::format("last cutover {} of {}: {} in {}s (ended at step {}), started {}\n", c.id, s.service, c.status,
                       c.duration_s, c.step, c.started_at);
  }
  if (!c.release.empty()) {
    out += "  release " + c.release + (c.old_release.empty() ? "" : " (replacing " + c.old_release + ")") + "\n";
  }
  out += render_promotion(c.promotion);
  if (!c.error.empty()) out += "  " + c.error + "\n";
  if (s.last_event) out += fmt::format("  last: {} {}: {}\n", s.last_event->at, s.last_event->step, s.last_event->text);
  if (!s.analysis_text.empty()) out += "  latest " + s.analysis_text + "\n";
  return out;
}

// The agents' queue (`lbctl submit`) and who took the latest requests.
std::string render_requests(const ServiceStatus& s) {
  std::string out;
  for (const auto& r : s.requests) {
    const std::string release = r.release.empty() ? std::string("r<cutover id>") : r.release;
    if (r.state == "queued") {
      out += fmt::format("  request {} queued: release {}, by {} at {}\n", r.id, release, r.requested_by,
                         format_time(r.requested_at, TimeFormat::iso_ms));
    } else {
      out += fmt::format("  request {} taken by {}: cutover {} (release {}, by {})\n", r.id, r.agent, r.cutover_id,
                         release, r.requested_by);
    }
  }
  if (s.takeovers > 0) out += fmt::format("  {} cutover(s) taken over by an agent after their runner stopped\n", s.takeovers);
  return out;
}

std::string render(const ServiceStatus& s) {
  std::string out;
  if (!s.error.empty()) out += "state database: " + s.error + "\n";
  if (s.cutover) out += render_cutover(s);
  else if (s.error.empty()) out += "service " + s.service + ": no cutover has run yet\n";
  for (const auto& lb : s.load_balancers) {
    if (!lb.error.empty()) out += "  " + lb.error + "\n";
    else out += "  " + lb.name + "\n" + render_lb_view(lb, "    ");
  }
  if (s.drain.is_object()) out += "  drain " + drain_bar(s.drain) + "\n";
  for (const auto& d : s.drift) out += "  drift: " + d.text + "\n";
  if (!s.drift.empty()) out += "  `lbctl reconcile` brings the load balancers back to what lbctl recorded\n";
  out += render_requests(s);
  return out;
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
  // --watch with no cutover under way (none yet, or the last one ended):
  // waits for the next one to start, then follows it until it ends.
  std::optional<std::int64_t> ended_before;
  bool said_waiting = false;
  for (;;) {
    auto opened = wiring.open_journal();  // again after a broken connection (only while watching)
    const auto status = opened ? run_to_end(io, gather_status(config, wiring.fleet(), wiring.journal()))
                               : run_to_end(io, gather_fleet_status(config, wiring.fleet(), opened.error().message));
    if (watch && !status.error.empty()) {
      // The state database restarted or failed over: the LBs meanwhile, and
      // a new connection at the next refresh; the watch goes on.
      wiring.close_journal();
      if (json) std::cout << nlohmann::json(status).dump() << "\n";
      else std::cout << (terminal ? "\x1b[H\x1b[2J" : "") << render(status) << (terminal ? "" : "\n");
      std::cout << std::flush;
      run_to_end(io, wiring.clock().sleep_for(1s));
      continue;
    }
    const std::int64_t id = status.cutover ? status.cutover->id : 0;
    const bool finished = !status.cutover || status.cutover->status == "completed" ||
                          status.cutover->status == "rolled_back" || status.cutover->status == "stopped";
    if (!ended_before) ended_before = watch && finished && status.error.empty() ? id : -1;
    const bool waiting = id <= *ended_before;
    if (json) {
      std::cout << nlohmann::json(status).dump() << "\n" << std::flush;
    } else if (!waiting || !said_waiting || terminal) {
      if (watch && terminal) std::cout << "\x1b[H\x1b[2J";
      std::cout << render(status);
      if (waiting) std::cout << "waiting for a cutover of " << config.service << " to start (Ctrl-C to stop)\n";
      std::cout << std::flush;
      said_waiting = waiting;
    }
    if (!watch || (!waiting && !status.running())) break;
    run_to_end(io, wiring.clock().sleep_for(1s));
    if (!json && !terminal && !waiting) std::cout << "\n";
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
  command->add_flag("--watch,-w", *watch,
                    "Refresh every second until the cutover ends; with none under way, wait for the next to start");
  command->add_flag("--json", *json, "One JSON object (per refresh with --watch)");
  command->footer("Reads the journal, so it works from any machine, and asks every load balancer.\n"
                  "Exit codes: 0 shown; 2 config error; 5 the state database is unreachable.");
  command->callback([&action, file, watch, json] { action = [file, watch, json] { return show_status(*file, *watch, *json); }; });
}

}  // namespace lbctl::cli
