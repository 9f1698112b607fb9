// Serve: `lbctl serve` with 20 services and 1,000 servers on 3 LBs (every LB
// holds one backend per service, 50 servers each, checked every 1s against
// the farm's listeners; one config file per service), polling every 1s. Timed
// with a fresh connection per request, as a browser's first visit makes
// them: the page's first load (/services/NAME, app.js, app.css, then the
// service's live answer, one after the other) and a /metrics scrape (the
// goals: p95 of 100 ms and 50 ms or less). Each piece of the first load is
// timed too, to show where the time goes.
//
// Usage: bench_serve [--services N] [--servers N] [--lbs N] [--iterations N] [--inter DURATION] [--json FILE]

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <regex>
#include <sstream>
#include <thread>
#include <atomic>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench/support.hpp"

using namespace lbctl::bench;
using namespace std::chrono_literals;
namespace test = lbctl::test;

namespace {

// The nearest-rank percentile (`p` in 0-100) of `values`.
double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

// A process's user + kernel CPU time so far, in seconds (0 when it cannot be read).
double cpu_seconds(pid_t pid) {
  const std::string text = test::read_file(fmt::format("/proc/{}/stat", pid));
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  // After the name: state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Timed {
  test::HttpReply reply;
  double ms = 0;
};

// A unix socket in front of an LB's admin socket that counts the
// connections made through it: what the LB's stats socket accepts from
// serve, one slot each while it lasts.
class CountingRelay {
 public:
  CountingRelay(std::string target, std::filesystem::path path) : m_target(std::move(target)), m_path(std::move(path)) {
    m_listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", m_path.c_str());
    if (::bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(m_listener, 64) != 0) {
      throw std::runtime_error("the counting relay cannot listen on " + m_path.string());
    }
    m_acceptor = std::thread([this] { accept_loop(); });
  }
  ~CountingRelay() {
    m_stop = true;
    m_acceptor.join();
    for (auto& t : m_pipes) t.join();
    ::close(m_listener);
  }
  std::size_t accepted() const { return m_accepted; }
  std::string runtime_api() const { return "unix:" + m_path.string(); }

 private:
  void accept_loop() {
    while (!m_stop) {
      pollfd p{m_listener, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int client = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++m_accepted;
      const int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un to{};
      to.sun_family = AF_UNIX;
      std::snprintf(to.sun_path, sizeof to.sun_path, "%s", m_target.c_str());
      if (::connect(server, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      m_pipes.emplace_back([this, client, server] { pipe(client, server); });
      m_pipes.emplace_back([this, client, server] { pipe(server, client); });
    }
  }
  void pipe(int from, int to) {
    char buffer[65536];
    while (!m_stop) {
      pollfd p{from, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
      if (n <= 0 || ::send(to, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  std::string m_target;
  std::filesystem::path m_path;
  int m_listener = -1;
  std::atomic<std::size_t> m_accepted{0};
  std::atomic<bool> m_stop{false};
  std::thread m_acceptor;
  std::vector<std::thread> m_pipes;
};

Timed timed_get(std::uint16_t port, const std::string& path) {
  const auto started = std::chrono::steady_clock::now();
  Timed t{test::http_get(port, path, 10s), 0};
  t.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return t;
}

}  // namespace

namespace {

int run(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  const auto services = static_cast<std::size_t>(int_arg(args, "services", 20));
  const auto servers = static_cast<std::size_t>(int_arg(args, "servers", 1000));
  const auto lbs = static_cast<std::size_t>(int_arg(args, "lbs", 3));
  const int iterations = int_arg(args, "iterations", 200);
  const std::string inter = args.contains("inter") ? args.at("inter") : std::string("1s");
  const std::string server_options = "check inter " + inter + " fall 2 rise 2";
  if (services == 0 || servers < services || lbs == 0 || iterations < 1) {
    std::fprintf(stderr, "bench_serve: expected 1 <= services <= servers, lbs >= 1, iterations >= 1\n");
    return 2;
  }

  // Postgres and the farm from the fleet helpers; the LBs are this
  // benchmark's own (one backend per service), so the fleet gets none.
  FleetOptions options;
  options.lbs = 0;
  options.old_servers = servers;
  options.new_servers = 0;
  options.listeners = 8;
  BenchFleet fleet(options);
  const auto& addresses = fleet.old_addresses();

  // Server j belongs to service j % services: svc01-1, svc01-2, ...
  const auto name_of = [](std::size_t s) { return fmt::format("svc{:02}", s + 1); };
  std::vector<std::vector<test::BackendServer>> backends(services);
  for (std::size_t j = 0; j < servers; ++j) {
    auto& backend = backends[j % services];
    backend.push_back({fmt::format("{}-{}", name_of(j % services), backend.size() + 1), addresses[j], ""});
  }
  std::ostringstream more;  // every backend after the first, as the fixture writes its own
  for (std::size_t s = 1; s < services; ++s) {
    more << "backend " << name_of(s) << "\n  balance roundrobin\n  option httpchk GET /health-check.html\n"
         << "  http-check disable-on-404\n";
    for (const auto& server : backends[s]) more << "  server " << server.name << " " << server.address << " " << server_options << "\n";
  }
  test::HaproxyOptions lb;
  lb.backend = name_of(0);
  lb.servers = backends[0];
  lb.server_options = server_options;
  lb.extra_global.push_back("maxconn 4000");
  const std::string extra_backends = more.str();
  lb.edit_config = [&extra_backends](const std::string& config) { return config + extra_backends; };
  std::vector<std::unique_ptr<test::HaproxyFixture>> fixtures;
  for (std::size_t i = 0; i < lbs; ++i) fixtures.push_back(std::make_unique<test::HaproxyFixture>(lb));
  // Every server UP on every LB first: show stat as it will stay.
  for (auto& l : fixtures) {
    const bool up = test::eventually(
        [&] {
          const auto stat = l->command("show stat -1 4 -1");
          std::size_t count = 0;
          for (std::size_t pos = 0; (pos = stat.find(",UP,", pos)) != std::string::npos; ++pos) ++count;
          return count == servers;
        },
        120s);
    if (!up) {
      std::fprintf(stderr, "bench_serve: not every server UP on every LB\n");
      return 1;
    }
  }

  // One config per service, naming every LB's admin socket (through a relay
  // that counts the connections serve makes) and its backend.
  test::TempDir dir;
  std::vector<std::unique_ptr<CountingRelay>> relays;
  for (std::size_t i = 0; i < fixtures.size(); ++i) {
    relays.push_back(std::make_unique<CountingRelay>(fixtures[i]->socket_path(), dir / fmt::format("lb{}.sock", i + 1)));
  }
  std::vector<std::string> serve_argv{lbctl_binary(), "serve", "--listen", "127.0.0.1:0", "--interval", "1s"};
  for (std::size_t s = 0; s < services; ++s) {
    std::ostringstream yaml;
    yaml << "service: " << name_of(s) << "\nstate:\n  database_url: \"from-the-environment\"\nload_balancers:\n";
    for (std::size_t i = 0; i < fixtures.size(); ++i) {
      yaml << "  - name: lb" << i + 1 << "\n    runtime_api: " << relays[i]->runtime_api() << "\n    backend: "
           << name_of(s) << "\n    timeout: 30s\n";
    }
    yaml << "old_pool:\n  discover: true\nnew_pool:\n  count: " << backends[s].size() << "\n  name_prefix: v2-\n"
         << "  server_options: \"" << server_options << "\"\nprovider:\n  type: static\n  servers:\n";
    for (std::size_t k = 0; k < backends[s].size(); ++k) {
      yaml << "    - {name: v2-" << k + 1 << ", address: \"" << addresses[(s + k) % addresses.size()] << "\"}\n";
    }
    yaml << "health:\n  path: /health-check.html\ndrain:\n  method: haproxy\nmin_healthy: 1\n";
    serve_argv.push_back("-c");
    serve_argv.push_back(dir.write(name_of(s) + ".yaml", yaml.str()).string());
  }

  // ChildProcess inherits our environment: the journal's URL goes there.
  ::setenv("LBCTL_STATE_DATABASE_URL", fleet.postgres().url("lbctl").c_str(), 1);
  const auto log = dir / "serve.log";
  test::ChildProcess serve(serve_argv, log);
  std::uint16_t port = 0;
  test::eventually(
      [&] {
        std::smatch m;
        const std::string text = test::read_file(log);
        static const std::regex url(R"(http://127\.0\.0\.1:([0-9]+)/)");
        if (std::regex_search(text, m, url)) port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
        return port != 0 || !serve.running();
      },
      30s);
  if (port == 0) {
    std::fprintf(stderr, "bench_serve: lbctl serve did not start:\n%s\n", test::read_file(log).c_str());
    return 1;
  }
  // Every service polled: no longer "unknown".
  std::string listing;
  const bool polled = test::eventually(
      [&] {
        listing = test::http_get(port, "/api/v1/services").body;
        const auto j = nlohmann::json::parse(listing, nullptr, false);
        if (j.is_discarded() || !j.contains("services") || j["services"].size() != services) return false;
        return std::all_of(j["services"].begin(), j["services"].end(),
                           [](const nlohmann::json& s) { return s["state"] != "unknown"; });
      },
      60s);
  const auto list = nlohmann::json::parse(listing, nullptr, false);
  bool healthy = polled;
  if (polled) {
    for (const auto& s : list["services"]) {
      if (s["state"] != "idle") healthy = false;
      for (const auto& l : s["load_balancers"]) healthy = healthy && l["up"] == true;
    }
  }
  if (!healthy) {
    std::fprintf(stderr, "bench_serve: not every service polled idle with every LB up:\n%s\n%s\n", listing.c_str(),
                 test::read_file(log).c_str());
    return 1;
  }

  // serve's own CPU while it only polls (no request), over 5 polls; and the
  // connections each LB accepted from it meanwhile.
  std::vector<std::size_t> conns_before;
  for (auto& relay : relays) conns_before.push_back(relay->accepted());
  const double cpu_before = cpu_seconds(serve.pid());
  const auto idle_started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(5s);
  const double idle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - idle_started).count();
  const double idle_cpu_percent = (cpu_seconds(serve.pid()) - cpu_before) / idle_s * 100;
  double conns_per_interval = 0;
  for (std::size_t i = 0; i < relays.size(); ++i) {
    const auto accepted = relays[i]->accepted() - conns_before[i];
    conns_per_interval = std::max(conns_per_interval, static_cast<double>(accepted) / idle_s);
  }

  // The first loads, one service after another, then the scrapes.
  std::vector<double> first_load, html, js, css, live, metrics;
  std::size_t live_bytes = 0, metrics_bytes = 0, page_bytes = 0;
  int failures = 0;
  std::string failure;
  const auto check = [&](const Timed& t, const std::string& path) {
    if (t.reply.status == 200) return;
    if (failures++ == 0) failure = fmt::format("GET {}: {} {}", path, t.reply.status, t.reply.body.substr(0, 200));
  };
  for (int i = 0; i < iterations; ++i) {
    const std::string name = name_of(static_cast<std::size_t>(i) % services);
    const auto started = std::chrono::steady_clock::now();
    const std::vector<std::string> paths = {"/services/" + name, "/assets/app.js", "/assets/app.css",
                                            "/api/v1/services/" + name + "/live"};
    std::vector<Timed> replies;
    for (const auto& path : paths) replies.push_back(timed_get(port, path));
    first_load.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t k = 0; k < paths.size(); ++k) check(replies[k], paths[k]);
    html.push_back(replies[0].ms);
    js.push_back(replies[1].ms);
    css.push_back(replies[2].ms);
    live.push_back(replies[3].ms);
    live_bytes = std::max(live_bytes, replies[3].reply.body.size());
    page_bytes = replies[0].reply.body.size() + replies[1].reply.body.size() + replies[2].reply.body.size();
  }
  for (int i = 0; i < iterations; ++i) {
    const auto t = timed_get(port, "/metrics");
    check(t, "/metrics");
    metrics.push_back(t.ms);
    metrics_bytes = std::max(metrics_bytes, t.reply.body.size());
  }
  if (failures > 0) {
    std::fprintf(stderr, "bench_serve: %d requests failed; the first: %s\n", failures, failure.c_str());
    return 1;
  }
  if (serve.stop() != 0) std::fprintf(stderr, "bench_serve: lbctl serve did not stop cleanly:\n%s\n", test::read_file(log).c_str());

  const auto label = fmt::format("{} services, {} servers on {} LBs", services, servers, lbs);
  const double load_p95 = percentile(first_load, 95);
  const double metrics_p95 = percentile(metrics, 95);
  const auto n = std::to_string(iterations);
  std::vector<Figure> figures = {
      {"first load (" + label + "): p50", percentile(first_load, 50), "ms", "", true},
      {"first load: p95 of " + n, load_p95, "ms", "<= 100", load_p95 <= 100},
      {"  HTML (/services/NAME): p50", percentile(html, 50), "ms", "", true},
      {"  HTML (/services/NAME): p95", percentile(html, 95), "ms", "", true},
      {"  app.js: p95", percentile(js, 95), "ms", "", true},
      {"  app.css: p95", percentile(css, 95), "ms", "", true},
      {"  live answer (/api/v1/services/NAME/live): p50", percentile(live, 50), "ms", "", true},
      {"  live answer: p95", percentile(live, 95), "ms", "", true},
      {"/metrics scrape: p50", percentile(metrics, 50), "ms", "", true},
      {"/metrics scrape: p95 of " + n, metrics_p95, "ms", "<= 50", metrics_p95 <= 50},
      {"  HTML + app.js + app.css body size", static_cast<double>(page_bytes) / 1024, "KiB", "", true},
      {"  live answer body size (largest)", static_cast<double>(live_bytes) / 1024, "KiB", "", true},
      {"  /metrics body size (largest)", static_cast<double>(metrics_bytes) / 1024, "KiB", "", true},
      {"  lbctl serve CPU while only polling (of one core)", idle_cpu_percent, "%", "", true},
      {"connections each LB accepted from serve per 1 s interval (the most of any LB)", conns_per_interval, "",
       "<= 2", conns_per_interval <= 2},
  };
  nlohmann::json extra = {{"services", services}, {"servers", servers},        {"lbs", lbs},
                          {"iterations", iterations}, {"first_load_ms", first_load}, {"metrics_ms", metrics}};
  const auto json = args.contains("json") ? args.at("json") : std::string();
  return report("serve", figures, json, extra);
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_serve", [&] { return run(argc, argv); });
}
