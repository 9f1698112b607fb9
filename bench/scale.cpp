// Scale: 1,000 old to 1,000 new servers across 3 LBs (check inter 1s), all
// pointing at a handful of fast local listeners; lbctl's CPU time and peak
// RSS as /usr/bin/time -v reports them (the goal: at most 2 s of
// CPU and 64 MiB).
//
// With --persist 1 every LB's haproxy.cfg is persisted (the same goals hold:
// one file write per LB per batch, never one per server); --inter sets the
// servers' check interval (10,000 servers are checked every 10s).
//
// With --compare-servers N --compare-lbs M a cutover of N servers on M LBs
// runs first (persisted alike; checks every --compare-inter, 1s, as the
// scale_persisted benchmark's), so the growth of lbctl's CPU per
// server-LB is one number measured in the same run (the goal: at most 1.2).
//
// Usage: bench_scale [--servers N] [--lbs N] [--persist 0|1] [--inter DURATION]
//                    [--compare-servers N --compare-lbs M [--compare-inter DURATION]] [--json FILE]

#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <string>
#include <unistd.h>

#include "core/duration.hpp"

#include "bench/support.hpp"

using namespace lbctl::bench;

namespace {

FleetOptions fleet_options(const std::map<std::string, std::string>& args, std::size_t servers, std::size_t lbs,
                           const std::string& inter) {
  FleetOptions options;
  options.lbs = lbs;
  options.old_servers = options.new_servers = servers;
  // Enough farm ports that a large pool's checks do not queue on a few.
  options.listeners = options.old_servers > 1000 ? 64 : 8;
  options.server_options = "check inter " + inter + " fall 2 rise 2";
  options.persist = int_arg(args, "persist", 0) != 0;
  options.health_interval = "1s";
  options.drain_poll = "1s";
  return options;
}

// lbctl's CPU per server-LB in a cutover of the fleet `options` describes;
// nullopt when it failed.
std::optional<double> cpu_per_server_lb(const FleetOptions& options) {
  BenchFleet fleet(options);
  const auto result = fleet.lbctl({"cutover", "--yes"}, true);
  if (result.exit_code != 0) {
    std::fprintf(stderr, "bench_scale: the comparison cutover failed (exit %d)\n", result.exit_code);
    return std::nullopt;
  }
  return result.cpu_s * 1000 / static_cast<double>(options.old_servers * options.lbs);
}

int run(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  std::optional<double> compared;
  std::string compared_label;
  if (args.contains("compare-servers")) {
    const auto servers = static_cast<std::size_t>(int_arg(args, "compare-servers", 1000));
    const auto lbs = static_cast<std::size_t>(int_arg(args, "compare-lbs", 3));
    compared_label = fmt::format("{} x {}", servers, lbs);
    compared = cpu_per_server_lb(fleet_options(args, servers, lbs, args.contains("compare-inter") ? args.at("compare-inter") : "1s"));
    if (!compared) return 1;
  }
  const std::string inter = args.contains("inter") ? args.at("inter") : std::string("1s");
  const FleetOptions options = fleet_options(args, static_cast<std::size_t>(int_arg(args, "servers", 1000)),
                                             static_cast<std::size_t>(int_arg(args, "lbs", 3)), inter);
  BenchFleet fleet(options);
  const double haproxy_cpu_before = cpu_of_processes_named("haproxy");
  const auto result = fleet.lbctl({"cutover", "--yes"}, true);
  const double haproxy_cpu = cpu_of_processes_named("haproxy") - haproxy_cpu_before;
  if (result.exit_code != 0) {
    std::fprintf(stderr, "bench_scale: the cutover failed (exit %d):\n%s\n", result.exit_code,
                 result.out.substr(result.out.size() > 4000 ? result.out.size() - 4000 : 0).c_str());
    return 1;
  }
  // Where the wall time goes: each step from its start to the next one's.
  const auto events = fleet.events(1);
  std::printf("steps:");
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].kind != "step_started") continue;
    std::size_t next = i + 1;
    while (next < events.size() && events[next].kind != "step_started" && events[next].kind != "completed") ++next;
    if (next < events.size()) std::printf(" %s %.1fs", events[i].step.c_str(), events[next].at_s - events[i].at_s);
  }
  std::printf("\n");
  // LBCTL_BENCH_EVENTS=FILE: every event, seconds from the first, for a closer look.
  if (const char* path = std::getenv("LBCTL_BENCH_EVENTS")) {
    if (FILE* out = std::fopen(path, "w")) {
      for (const auto& e : events) std::fprintf(out, "%9.3f %s %s\n", e.at_s - events.front().at_s, e.step.c_str(), e.kind.c_str());
      std::fclose(out);
    }
  }
  const auto label = std::to_string(options.old_servers) + "->" + std::to_string(options.new_servers) + " on " +
                     std::to_string(options.lbs) + " LBs" + (options.persist ? ", persisted" : "");
  // The goals: up to 1,000 servers 2 s and 64 MiB; up to 10,000, 10 s and 256 MiB.
  const bool large = options.old_servers > 1000;
  const double cpu_goal = large ? 10.0 : 2.0;
  const double rss_goal = large ? 256.0 : 64.0;
  // The floor: the waits the design imposes, rise x interval of the direct
  // check then rise x inter of HAProxy's (DESIGN.md, Targets).
  const double inter_s = lbctl::parse_duration(inter).value_or(std::chrono::milliseconds(1000)).count() / 1000.0;
  const double interval_s = lbctl::parse_duration(options.health_interval).value_or(std::chrono::milliseconds(1000)).count() / 1000.0;
  const double floor_s = options.health_rise * interval_s + 2 * inter_s;
  // What the machine had: every HAProxy's CPU (the LBs checking 2 x servers
  // each, the farm answering them) and lbctl's, over its cores.
  const double cores = static_cast<double>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  const double server_lbs = static_cast<double>(options.old_servers * options.lbs);
  std::vector<Figure> figures = {
      {"cutover " + label + ": floor (rise x interval + rise x inter)", floor_s, "s", "", true},
      {"cutover " + label + ": wall time", result.wall_s, "s", fmt::format("<= {:g} (floor + 10%)", floor_s * 1.1),
       result.wall_s <= floor_s * 1.1},
      {"cutover " + label + ": HAProxy CPU meanwhile (LBs and farm)", haproxy_cpu, "s", "", true},
      {"cutover " + label + ": machine busy (lbctl + HAProxy CPU / cores)", (haproxy_cpu + result.cpu_s) / cores, "s", "",
       true},
      {"cutover " + label + ": lbctl CPU per server-LB", result.cpu_s * 1000 / server_lbs, "ms", "", true},
      {"cutover " + label + ": lbctl CPU (user+sys)", result.cpu_s, "s", fmt::format("<= {:g}", cpu_goal),
       result.cpu_s <= cpu_goal},
      {"cutover " + label + ": lbctl peak RSS", result.max_rss_mib, "MiB", fmt::format("<= {:g}", rss_goal),
       result.max_rss_mib <= rss_goal},
  };
  if (compared) {
    const double per = result.cpu_s * 1000 / server_lbs;
    figures.push_back({"cutover " + label + ": lbctl CPU per server-LB, at " + compared_label, *compared, "ms", "", true});
    figures.push_back({"cutover " + label + ": CPU per server-LB over " + compared_label + "'s", per / *compared, "x",
                       "<= 1.2", per / *compared <= 1.2});
  }
  const auto json = args.contains("json") ? args.at("json") : std::string();
  return report("scale", figures, json);
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_scale", [&] { return run(argc, argv); });
}
