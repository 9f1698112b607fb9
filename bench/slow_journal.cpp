// A slow state database: every piece lbctl sends Postgres is held 2 s by a
// relay before it passes on (once a connection is set up), so every journal
// query takes 2 s longer. The event loop must not notice: during the drain
// watch the LB reads keep their poll interval (the largest gap between two
// reads <= poll + 100 ms), and SIGINT is answered (lbctl says it rolls back)
// within 100 ms.
//
// Usage: bench_slow_journal [--delay-ms 2000] [--poll-ms 500] [--json FILE]

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <future>
#include <netinet/in.h>
#include <poll.h>
#include <regex>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "bench/support.hpp"

using namespace lbctl::bench;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// 127.0.0.1:port() -> 127.0.0.1:target; what a client sends is held `delay`
// once its connection is older than `grace` (so connecting stays quick).
class DelayRelay {
 public:
  DelayRelay(std::uint16_t target, std::chrono::milliseconds delay, std::chrono::milliseconds grace)
      : m_target(target), m_delay(delay), m_grace(grace) {
    m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(m_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(m_listener, 64) != 0) {
      throw std::runtime_error("the delaying relay cannot listen");
    }
    socklen_t length = sizeof address;
    ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&address), &length);
    m_port = ntohs(address.sin_port);
    m_acceptor = std::thread([this] { accept_loop(); });
  }
  ~DelayRelay() {
    m_stop = true;
    m_acceptor.join();
    for (auto& t : m_pipes) t.join();
    ::close(m_listener);
  }
  std::uint16_t port() const { return m_port; }

 private:
  void accept_loop() {
    while (!m_stop) {
      pollfd p{m_listener, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int client = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(m_target);
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(server, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      const auto opened = Clock::now();
      m_pipes.emplace_back([this, client, server, opened] { pipe(client, server, opened, true); });
      m_pipes.emplace_back([this, client, server, opened] { pipe(server, client, opened, false); });
    }
  }
  // Copies from -> to until either side closes; shuts both when it ends.
  void pipe(int from, int to, Clock::time_point opened, bool delayed) {
    char buffer[65536];
    while (!m_stop) {
      pollfd p{from, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      if (delayed && Clock::now() - opened > m_grace) std::this_thread::sleep_for(m_delay);
      if (::send(to, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  std::uint16_t m_target;
  std::chrono::milliseconds m_delay;
  std::chrono::milliseconds m_grace;
  int m_listener = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_acceptor;
  std::vector<std::thread> m_pipes;
};

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// "2026-12-06T10:45:01.123Z" -> seconds into its day.
double seconds_of_day(const std::string& iso) {
  const auto t = iso.find('T');
  if (t == std::string::npos || iso.size() < t + 13) return 0;
  return std::stod(iso.substr(t + 1, 2)) * 3600 + std::stod(iso.substr(t + 4, 2)) * 60 + std::stod(iso.substr(t + 7, 6));
}

}  // namespace

namespace {

int run(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  const int delay_ms = int_arg(args, "delay-ms", 2000);
  const int poll_ms = int_arg(args, "poll-ms", 500);
  FleetOptions options;
  options.lbs = 2;
  options.old_servers = 2;
  options.new_servers = 2;
  options.old_apps = true;
  options.postgres_tcp = true;
  options.drain_poll = std::to_string(poll_ms) + "ms";
  BenchFleet fleet(options);
  DelayRelay relay(fleet.postgres().tcp_port(), std::chrono::milliseconds(delay_ms), 3s);
  const std::string url = "host=127.0.0.1 port=" + std::to_string(relay.port()) + " user=postgres dbname=lbctl";
  // A request held 20 s on an old server keeps the watch going.
  auto held = std::async(std::launch::async, [&] { return lbctl::test::http_get(fleet.lb(0).frontend_port(), "/slow?ms=20000", 60s); });
  lbctl::test::eventually([&] {
    return fleet.lb(0).stat_field("old-1", "scur") == "1" || fleet.lb(0).stat_field("old-2", "scur") == "1";
  }, 5s);
  lbctl::test::TempDir dir;
  const auto log = dir / "cutover.jsonl";
  auto lbctl = fleet.start_lbctl({"cutover", "--yes", "--json"}, log, url);
  // The watch's reads, from the drain_progress events (one per read of every LB).
  std::vector<double> reads;
  const auto read_times = [&] {
    reads.clear();
    std::istringstream lines(lbctl::test::read_file(log));
    std::string line;
    while (std::getline(lines, line)) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event", "") == "drain_progress" && j.contains("time")) {
        reads.push_back(seconds_of_day(j["time"].get<std::string>()));
      }
    }
    return reads.size();
  };
  if (!lbctl::test::eventually([&] { return read_times() >= 16; }, 60s)) {
    std::fprintf(stderr, "bench_slow_journal: the watch did not get going:\n%s\n", lbctl::test::read_file(log).c_str());
    return 1;
  }
  double largest_gap = 0;
  for (std::size_t i = 1; i < reads.size(); ++i) largest_gap = std::max(largest_gap, reads[i] - reads[i - 1]);
  // SIGINT: lbctl answers it (says it rolls back) without waiting for the database.
  const auto asked = Clock::now();
  lbctl->signal(SIGINT);
  double answered = -1;
  while (since(asked) < 5) {
    if (lbctl::test::read_file(log).find("rolling back (interrupt again") != std::string::npos) {
      answered = since(asked);
      break;
    }
    std::this_thread::sleep_for(1ms);
  }
  lbctl->signal(SIGINT);  // the second one leaves at once
  lbctl->wait(10s);
  held.get();
  const double goal_gap = poll_ms / 1000.0 + 0.1;
  std::vector<Figure> figures = {
      {"slow journal (+" + std::to_string(delay_ms) + " ms a query): largest gap between two LB reads of the watch",
       largest_gap, "s", "<= " + std::to_string(goal_gap).substr(0, 4), largest_gap <= goal_gap},
      {"  LB reads measured", static_cast<double>(reads.size()), "", "", true},
      {"slow journal: SIGINT answered after", answered, "s", "<= 0.1", answered >= 0 && answered <= 0.1},
  };
  const auto json = args.contains("json") ? args.at("json") : std::string();
  return report("slow_journal", figures, json);
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_slow_journal", [&] { return run(argc, argv); });
}
