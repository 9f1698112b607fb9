// Drain latency: from the moment the last held request on an old server ends
// to the moment the detach begins, as the journal's events record it
// (the goal: one poll interval + 100 ms or less).
//
// Usage: bench_drain_latency [--runs N] [--poll-ms N] [--json FILE]

#include <algorithm>
#include <cstdio>
#include <future>

#include "bench/support.hpp"

using namespace lbctl::bench;
using namespace std::chrono_literals;

namespace {

int run(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  const int runs = int_arg(args, "runs", 3);
  const int poll_ms = int_arg(args, "poll-ms", 500);
  std::vector<double> latencies;
  for (int run = 0; run < runs; ++run) {
    FleetOptions options;
    options.lbs = 2;
    options.old_servers = 2;
    options.new_servers = 2;
    options.old_apps = true;
    options.drain_poll = std::to_string(poll_ms) + "ms";
    BenchFleet fleet(options);
    // A request held 3 s on an old server, through lb1.
    auto held = std::async(std::launch::async, [&] {
      auto reply = lbctl::test::http_get(fleet.lb(0).frontend_port(), "/slow?ms=3000", 30s);
      const double ended = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
      return std::make_pair(reply.status, ended);
    });
    lbctl::test::eventually([&] {
      return fleet.lb(0).stat_field("old-1", "scur") == "1" || fleet.lb(0).stat_field("old-2", "scur") == "1";
    }, 5s);
    const auto result = fleet.lbctl({"cutover", "--yes"});
    const auto [status, ended] = held.get();
    if (result.exit_code != 0 || status != 200) {
      std::fprintf(stderr, "bench_drain_latency: cutover exit %d, held request %d:\n%s\n", result.exit_code, status,
                   result.out.c_str());
      return 1;
    }
    const double detach = fleet.step_started(1, "detach");
    latencies.push_back(detach - ended);
  }
  std::sort(latencies.begin(), latencies.end());
  const double goal = poll_ms / 1000.0 + 0.1;
  std::vector<Figure> figures = {
      {"drain latency: last session end -> detach start (median)", latencies[latencies.size() / 2], "s", "", true},
      {"drain latency: worst of " + std::to_string(runs) + " runs", latencies.back(), "s",
       "<= " + std::to_string(goal).substr(0, 4), latencies.back() <= goal},
      {"  drain.poll", poll_ms / 1000.0, "s", "", true},
  };
  const auto json = args.contains("json") ? args.at("json") : std::string();
  return report("drain_latency", figures, json, {{"latencies_s", latencies}});
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_drain_latency", [&] { return run(argc, argv); });
}
