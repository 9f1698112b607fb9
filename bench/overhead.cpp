// Overhead: a cutover of 20 old to 20 new servers across 2 LBs (check inter
// 100ms, rise 2, fall 2; direct checks every 100ms, rise 2; static provider;
// drain by HAProxy state; no sessions, no migrations), against the floor the
// design imposes, computed from the same config: the direct check's rise x
// interval plus HAProxy's rise x inter (the goal: at most 0.2 s
// over the floor).
//
// Usage: bench_overhead [--runs N] [--json FILE]

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <numeric>

#include "bench/support.hpp"

using namespace lbctl::bench;

namespace {

int run(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  const int runs = int_arg(args, "runs", 3);
  const double floor_s = 2 * 0.100 + 2 * 0.100;  // direct rise x interval + HAProxy rise x inter
  std::vector<double> walls, journals;
  std::map<std::string, double> step_totals;
  for (int run = 0; run < runs; ++run) {
    BenchFleet fleet(FleetOptions{});
    const auto result = fleet.lbctl({"cutover", "--yes"});
    if (result.exit_code != 0) {
      std::fprintf(stderr, "bench_overhead: the cutover failed (exit %d):\n%s\n", result.exit_code, result.out.c_str());
      return 1;
    }
    const auto events = fleet.events(1);
    walls.push_back(result.wall_s);
    journals.push_back(events.back().at_s - events.front().at_s);
    // Where the time goes: each step from its start to the next one's.
    std::string previous;
    double previous_at = 0;
    for (const auto& e : events) {
      if (e.kind != "step_started" && e.kind != "completed") continue;
      if (!previous.empty()) step_totals[previous] += e.at_s - previous_at;
      previous = e.step;
      previous_at = e.at_s;
    }
  }
  std::sort(walls.begin(), walls.end());
  std::sort(journals.begin(), journals.end());
  const double wall = walls[walls.size() / 2];
  const double journal = journals[journals.size() / 2];
  std::printf("steps (mean over %d runs):", runs);
  for (const auto& [step, total] : step_totals) std::printf(" %s %.0fms", step.c_str(), total / runs * 1000);
  std::printf("\n");
  std::vector<Figure> figures = {
      {"cutover 20->20 on 2 LBs: wall time (median)", wall, "s", "", true},
      {"  from the journal's first to last event", journal, "s", "", true},
      {"  floor: rise x interval + rise x inter", floor_s, "s", "", true},
      {"overhead over the floor (wall - floor)", wall - floor_s, "s", "<= 0.2", wall - floor_s <= 0.2},
  };
  nlohmann::json extra = {{"runs", runs}, {"walls_s", walls}};
  for (const auto& [step, total] : step_totals) extra["step_ms"][step] = total / runs * 1000;
  const auto json = args.contains("json") ? args.at("json") : std::string();
  return report("overhead", figures, json, extra);
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_overhead", [&] { return run(argc, argv); });
}
