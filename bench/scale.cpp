// Scale: 1,000 old to 1,000 new servers across 3 LBs (check inter 1s), all
// pointing at a handful of fast local listeners; lbctl's CPU time and peak
// RSS as /usr/bin/time -v reports them (DESIGN.md, "Targets": at most 2 s of
// CPU and 64 MiB).
//
// Usage: bench_scale [--servers N] [--lbs N] [--json FILE]

#include <cstdio>

#include "bench/support.hpp"

using namespace lbctl::bench;

int main(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  FleetOptions options;
  options.lbs = static_cast<std::size_t>(int_arg(args, "lbs", 3));
  options.old_servers = options.new_servers = static_cast<std::size_t>(int_arg(args, "servers", 1000));
  options.listeners = 8;
  options.server_options = "check inter 1s fall 2 rise 2";
  options.health_interval = "1s";
  options.drain_poll = "1s";
  BenchFleet fleet(options);
  const auto result = fleet.lbctl({"cutover", "--yes"}, true);
  if (result.exit_code != 0) {
    std::fprintf(stderr, "bench_scale: the cutover failed (exit %d):\n%s\n", result.exit_code,
                 result.out.substr(result.out.size() > 4000 ? result.out.size() - 4000 : 0).c_str());
    return 1;
  }
  const auto label = std::to_string(options.old_servers) + "->" + std::to_string(options.new_servers) + " on " +
                     std::to_string(options.lbs) + " LBs";
  std::vector<Figure> figures = {
      {"cutover " + label + ": wall time", result.wall_s, "s", "", true},
      {"cutover " + label + ": lbctl CPU (user+sys)", result.cpu_s, "s", "<= 2", result.cpu_s <= 2.0},
      {"cutover " + label + ": lbctl peak RSS", result.max_rss_mib, "MiB", "<= 64", result.max_rss_mib <= 64.0},
  };
  const auto json = args.contains("json") ? args.at("json") : std::string();
  return report("scale", figures, json);
}
