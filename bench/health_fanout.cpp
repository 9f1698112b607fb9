// Health fan-out: 1,000 concurrent checks against loopback servers on one
// thread (the goal: within 1 s). The responders are tiny HTTP
// servers in child processes, forked before the checker starts, so they do
// not share its thread or its io_context.
//
// Usage: bench_health_fanout [--checks N] [--responders N] [--runs N] [--json FILE]

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "core/run.hpp"
#include "health/curl_prober.hpp"
#include "health/verify.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct Options {
  int checks = 1000;
  int responders = 4;
  int runs = 5;
  std::string json;
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--checks") options.checks = std::stoi(value());
    else if (arg == "--responders") options.responders = std::stoi(value());
    else if (arg == "--runs") options.runs = std::stoi(value());
    else if (arg == "--json") options.json = value();
    else throw std::invalid_argument("unknown argument " + arg);
  }
  if (options.checks < 1 || options.responders < 1 || options.runs < 1)
    throw std::invalid_argument("--checks, --responders and --runs must be at least 1");
  return options;
}

// 1,000 connections at once need more descriptors than the usual soft limit.
void raise_fd_limit(rlim_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &limit);
}

// ---- the responder (child process) ----

asio::awaitable<void> serve(tcp::socket socket) {
  static const std::string k_answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
  std::string buffer;
  for (;;) {
    boost::system::error_code ec;
    const std::size_t end = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n",
                                                            asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    buffer.erase(0, end);
    co_await asio::async_write(socket, asio::buffer(k_answer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

[[noreturn]] void run_responder(int listen_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  asio::io_context io(1);
  tcp::acceptor acceptor(io, tcp::v4(), listen_fd);
  asio::co_spawn(io, accept_loop(acceptor), asio::detached);
  io.run();
  _exit(0);
}

struct Responder {
  pid_t pid = -1;
  std::uint16_t port = 0;
};

// Listens first, then forks: the port accepts connections before the child runs.
Responder start_responder() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 4096) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) run_responder(fd);
  ::close(fd);
  return Responder{pid, ntohs(address.sin_port)};
}

void stop_responders(const std::vector<Responder>& responders) {
  for (const auto& r : responders) ::kill(r.pid, SIGTERM);
  for (const auto& r : responders) ::waitpid(r.pid, nullptr, 0);
}

// ---- the checker (this process, one thread) ----

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  return -1;
}

struct Round {
  double wall_ms = 0;
  double cpu_ms = 0;
  int healthy = 0;
  std::string first_failure;
};

// One round of checks: every target once (rise 1), all at once.
Round check_all(asio::io_context& io, lbctl::health::CurlProber& prober, const std::vector<lbctl::health::Target>& targets) {
  lbctl::SteadyClock clock;
  lbctl::health::CheckPolicy policy;
  policy.path = "/health-check.html";
  policy.expect_body = "ok";
  policy.rise = 1;
  policy.timeout = 5s;
  policy.deadline = 10s;
  const double cpu_before = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const auto verdicts = lbctl::run_to_end(io, lbctl::health::verify(targets, policy, prober, clock));
  const auto wall = std::chrono::steady_clock::now() - start;
  Round round;
  round.wall_ms = std::chrono::duration<double, std::milli>(wall).count();
  round.cpu_ms = (cpu_seconds() - cpu_before) * 1000;
  for (const auto& v : verdicts) {
    if (v.healthy) ++round.healthy;
    else if (round.first_failure.empty()) round.first_failure = v.name + ": " + v.reason;
  }
  return round;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Figure {
  std::string name;
  double value;
  std::string unit;
  std::string goal;  // "<= 1000", or "" for figures shown for context
  bool met;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse_options(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_health_fanout: %s\n", e.what());
    return 2;
  }
  raise_fd_limit(static_cast<rlim_t>(options.checks) * 2 + 256);
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<Responder> responders;
  for (int i = 0; i < options.responders; ++i) responders.push_back(start_responder());

  std::vector<lbctl::health::Target> targets;
  for (int i = 0; i < options.checks; ++i) {
    const auto& r = responders[static_cast<std::size_t>(i) % responders.size()];
    targets.push_back({fmt::format("t-{}", i), fmt::format("127.0.0.1:{}", r.port)});
  }

  asio::io_context io(1);
  std::vector<double> cold_ms, warm_ms, cold_cpu_ms;
  std::string failure;
  {
    // Warm-up: curl's global init, the responders' first accepts, page faults.
    lbctl::health::CurlProber prober(io);
    std::vector<lbctl::health::Target> few(targets.begin(), targets.begin() + std::min<std::size_t>(targets.size(), 8));
    check_all(io, prober, few);
  }
  for (int run = 0; run < options.runs && failure.empty(); ++run) {
    // Cold: a fresh prober (every check opens its own connection either way).
    lbctl::health::CurlProber prober(io);
    const Round cold = check_all(io, prober, targets);
    // Warm: the same prober again (curl's caches filled, nothing else kept).
    const Round warm = check_all(io, prober, targets);
    for (const Round* r : {&cold, &warm}) {
      if (r->healthy != options.checks && failure.empty())
        failure = fmt::format("{} of {} checks passed; first failure: {}", r->healthy, options.checks, r->first_failure);
    }
    cold_ms.push_back(cold.wall_ms);
    cold_cpu_ms.push_back(cold.cpu_ms);
    warm_ms.push_back(warm.wall_ms);
  }
  const int threads = thread_count();
  stop_responders(responders);
  if (!failure.empty()) {
    std::fprintf(stderr, "bench_health_fanout: %s\n", failure.c_str());
    return 1;
  }

  const double goal_ms = 1000;
  const std::vector<Figure> figures = {
      {fmt::format("health_fanout.{}_checks_cold", options.checks), median(cold_ms), "ms", "<= 1000",
       median(cold_ms) <= goal_ms},
      {fmt::format("health_fanout.{}_checks_cold_worst", options.checks), *std::max_element(cold_ms.begin(), cold_ms.end()),
       "ms", "<= 1000", *std::max_element(cold_ms.begin(), cold_ms.end()) <= goal_ms},
      {fmt::format("health_fanout.{}_checks_warm", options.checks), median(warm_ms), "ms", "<= 1000",
       median(warm_ms) <= goal_ms},
      {fmt::format("health_fanout.{}_checks_cold_cpu", options.checks), median(cold_cpu_ms), "ms", "", true},
  };
  nlohmann::json document = {{"benchmark", "health_fanout"},
                             {"checks", options.checks},
                             {"responders", options.responders},
                             {"runs", options.runs},
                             {"checker_threads", threads},
                             {"figures", nlohmann::json::array()}};
  for (const auto& f : figures) {
    std::printf("%-48s %10.1f %-3s  goal %-8s %s\n", f.name.c_str(), f.value, f.unit.c_str(),
                f.goal.empty() ? "-" : f.goal.c_str(), f.goal.empty() ? "" : (f.met ? "met" : "MISSED"));
    document["figures"].push_back(
        {{"name", f.name}, {"value", f.value}, {"unit", f.unit}, {"goal", f.goal}, {"met", f.met}});
  }
  if (!options.json.empty()) {
    std::ofstream out(options.json);
    out << document.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "bench_health_fanout: cannot write %s\n", options.json.c_str());
      return 1;
    }
  }
  // A missed goal is printed ("MISSED"), not an error: this is a benchmark.
  return 0;
}
