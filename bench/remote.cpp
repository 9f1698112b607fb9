// Remote LBs: the overhead benchmark's cutover (20 old -> 20 new servers on
// 2 LBs) with lbctl reaching the LBs over ssh:// (an sshd on each LB host:
// one ControlMaster connection per LB, one session kept across batches) and
// over tls:// (configs/haproxy-tls-cli.cfg's listen section), beside the same
// cutover on the local unix sockets, interleaved in one run so the machine's
// noise falls on all three alike. Goal: each remote transport within +0.5 s
// of the local socket (median wall time).
//
// As root it runs in the lab the tests use (scripts/lab): lbctl on "deploy",
// each LB on a host of its own, the servers on "apps" (the unix-socket runs
// too: lbctl then reads sockets the LB hosts share with it through the
// filesystem, as a local LB would be). Otherwise on loopback; --lab 0 forces
// loopback.
//
// Usage: bench_remote [--runs N] [--lab 0|1] [--json FILE]

#include <algorithm>
#include <cstdio>

#include "bench/support.hpp"

using namespace lbctl::bench;

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int run(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  const int runs = int_arg(args, "runs", 3);
  const std::vector<std::string> transports{"unix", "ssh", "tls"};
  const bool lab = int_arg(args, "lab", lbctl::test::lab_available() ? 1 : 0) != 0;
  std::printf("bench_remote: %s\n", lab ? "in a lab of network namespaces (deploy, lb1, lb2, apps)" : "on loopback");
  std::map<std::string, std::vector<double>> walls;
  for (int run = 0; run < runs; ++run) {
    for (const auto& transport : transports) {
      FleetOptions options;
      options.transport = transport;
      options.lab = lab;
      BenchFleet fleet(options);
      const auto result = fleet.lbctl({"cutover", "--yes"});
      if (result.exit_code != 0) {
        std::fprintf(stderr, "bench_remote: the cutover over %s failed (exit %d):\n%s\n", transport.c_str(),
                     result.exit_code, result.out.c_str());
        return 1;
      }
      walls[transport].push_back(result.wall_s);
    }
  }
  const double local = median(walls["unix"]);
  const double ssh = median(walls["ssh"]);
  const double tls = median(walls["tls"]);
  std::vector<Figure> figures = {
      {"cutover 20->20 on 2 LBs, local unix socket: wall (median)", local, "s", "", true},
      {lab ? "  over ssh:// (sshd on each LB host)" : "  over ssh:// (sshd on loopback)", ssh, "s", "", true},
      {"  over tls:// (mutual TLS listen section)", tls, "s", "", true},
      {"ssh - local", ssh - local, "s", "<= 0.5", ssh - local <= 0.5},
      {"tls - local", tls - local, "s", "<= 0.5", tls - local <= 0.5},
  };
  nlohmann::json extra = {{"runs", runs}, {"lab", lab}, {"walls_s", walls}};
  return report("remote", figures, args.contains("json") ? args.at("json") : "", extra);
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_remote", [&] { return run(argc, argv); });
}
