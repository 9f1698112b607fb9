// E2E: `lbctl agent` and `lbctl submit` against real HAProxy and Postgres:
// a cutover taken over from a killed agent under load, and many requests
// for many services queued at once across several agents.

#include "tests/support/catch.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

using AgentSteady = std::chrono::steady_clock;

bool log_has(const std::filesystem::path& log, const std::string& text) {
  return read_file(log).find(text) != std::string::npos;
}

long ms_since(AgentSteady::time_point from) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(AgentSteady::now() - from).count());
}

}  // namespace

TEST_CASE("two agents: the one running a submitted cutover is killed mid-drain under load, the other adopts it "
          "within lease + poll, is stopped with SIGTERM and hands it to a third, submit --wait exits 0",
          "[e2e][agent]") {
  Stack stack;
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  // A request long enough to hold the cutover in its drain past the kill and the take-over.
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=25000", 60s); });
  auto a = stack.start_lbctl({"agent", "--poll", "500ms"}, logs / "a.txt");
  auto submit = stack.start_lbctl({"submit", "--release", "v2", "--wait"}, logs / "submit.txt");
  REQUIRE(eventually([&] { return log_has(logs / "a.txt", "drain started"); }, 90s));
  INFO(read_file(logs / "a.txt"));
  CHECK(log_has(logs / "submit.txt", "request 1 taken by agent"));

  // Another request while this one runs: refused (exit 4), naming the cutover.
  const auto refused = stack.lbctl({"submit", "--release", "v3"});
  CHECK(refused.exit_code == 4);
  CHECK(refused.out.find("cutover 1") != std::string::npos);

  auto b = stack.start_lbctl({"agent", "--poll", "500ms"}, logs / "b.txt");
  REQUIRE(eventually([&] { return log_has(logs / "b.txt", "is held by its runner"); }, 30s));
  a->signal(SIGKILL);
  a->wait(10s);
  const auto killed = AgentSteady::now();
  REQUIRE(eventually([&] { return log_has(logs / "b.txt", "taken over by agent"); }, 30s));
  const long took = ms_since(killed);
  // The lease (2 s, from the runner's last heartbeat) and one poll of the other agent (500 ms), plus its start.
  WARN("taken over " << took << " ms after the SIGKILL (state.lease 2 s + --poll 500 ms)");
  CHECK(took <= 2000 + 500 + 1500);

  // A third agent; the second stopped with SIGTERM mid-drain: it gives the
  // cutover up (exit 0, nothing rolled back) and the third adopts it at its
  // next poll, without waiting for the lease.
  auto c = stack.start_lbctl({"agent", "--poll", "500ms"}, logs / "c.txt");
  REQUIRE(eventually([&] { return log_has(logs / "c.txt", "is held by its runner"); }, 30s));
  REQUIRE_FALSE(log_has(logs / "b.txt", "detach started"));  // still draining: the held request
  const auto stopping = AgentSteady::now();
  CHECK(b->stop() == 0);
  CHECK(log_has(logs / "b.txt", "gave up cutover 1 for the next agent"));
  REQUIRE(eventually([&] { return log_has(logs / "c.txt", "its runner gave it up"); }, 10s));
  const long handed = ms_since(stopping);
  WARN("handed over " << handed << " ms after the SIGTERM");
  CHECK(handed < 2000);

  CHECK(submit->wait(120s) == 0);
  INFO(read_file(logs / "submit.txt"));
  INFO(read_file(logs / "b.txt"));
  CHECK(log_has(logs / "submit.txt", "taken over by agent"));
  CHECK(log_has(logs / "submit.txt", "the cutover is left to the next agent"));
  CHECK(log_has(logs / "submit.txt", "cutover 1 completed"));
  CHECK(stack.fleet_view() == k_done_view);
  held.get();
  const auto r1 = load1.stop();
  const auto r2 = load2.stop();
  INFO(r1.text << r2.text);
  CHECK(r1.requests > 100);
  CHECK(r1.non_2xx + r1.socket_errors + r2.non_2xx + r2.socket_errors == 0);

  // One cutover, one take-over, the request taken once; the old servers gone.
  CHECK(stack.postgres().query_value("SELECT count(*) FROM lbctl.cutovers", "lbctl") == "1");
  CHECK(stack.postgres().query_value("SELECT count(*) FROM lbctl.events WHERE kind = 'taken_over'", "lbctl") == "2");
  CHECK(stack.postgres().query_value("SELECT state || ' ' || cutover_id FROM lbctl.requests", "lbctl") == "taken 1");
  for (const auto& name : stack.old_names()) CHECK_FALSE(stack.server_running(name));

  // The history says who ran it: the request's agent, then the two take-overs.
  const auto history = nlohmann::json::parse(stack.lbctl({"history", "--json"}).out);
  CHECK(history["request_id"] == 1);
  CHECK(history["taken_over_by"].size() == 2);
  const auto status = nlohmann::json::parse(stack.lbctl({"status", "--json"}).out);
  CHECK(status["takeovers"] == 2);
  CHECK(status["requests"][0]["state"] == "taken");
  CHECK(c->stop() == 0);
}

namespace {

// The requests each service gets (LBCTL_AGENT_QUEUE_REQUESTS, default 20).
int queue_requests() {
  const char* given = std::getenv("LBCTL_AGENT_QUEUE_REQUESTS");
  return given ? std::stoi(given) : 20;
}

std::string release_name(std::size_t service, int n) {
  return fmt::format("s{}-{:02}", service, n);
}

// A stack of its own per service (its LB and old servers), renamed
// shopN, each release's servers named after it.
std::unique_ptr<Stack> service_stack(std::size_t n) {
  StackOptions options;
  options.lbs = 1;
  options.migrations = false;
  auto stack = std::make_unique<Stack>(options);
  auto text = read_file(stack->config_file());
  text = std::regex_replace(text, std::regex("service: shop\n"), "service: shop" + std::to_string(n) + "\n");
  text = std::regex_replace(text, std::regex("name_prefix: v2-"), "name_prefix: \"{release}-\"");
  // The services clone side by side on this host: 100 ports each, apart from
  // the stacks' own ranges (20000-29999). The local provider does not reuse
  // the port of a server it terminated (its folder keeps it): two a release.
  const int base = 40000 + 500 * static_cast<int>(::getpid() % 40) + 100 * static_cast<int>(n - 1);
  text = std::regex_replace(text, std::regex("ports: \"[0-9]+-[0-9]+\""),
                            "ports: \"" + std::to_string(base) + "-" + std::to_string(base + 99) + "\"");
  REQUIRE(text.find(std::to_string(base) + "-") != std::string::npos);
  std::ofstream(stack->config_file()) << text;
  return stack;
}

// /proc/PID: CPU seconds used (user + system) and peak RSS in MiB.
std::pair<double, long> cpu_and_rss(pid_t pid) {
  std::istringstream stat(read_file("/proc/" + std::to_string(pid) + "/stat"));
  std::string field;
  std::vector<std::string> fields;
  while (stat >> field) fields.push_back(field);
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  // Fields 14 and 15 (utime, stime), counted after the ")" that ends the command name.
  std::size_t close = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].find(')') != std::string::npos) close = i;
  }
  const double cpu = (std::stod(fields.at(close + 12)) + std::stod(fields.at(close + 13))) / ticks;
  long rss_kib = 0;
  std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) rss_kib = std::stol(line.substr(6));
  }
  return {cpu, rss_kib / 1024};
}

}  // namespace

TEST_CASE("three agents, five services, requests queued at once: each runs exactly once, in order per service",
          "[e2e][agent][long]") {
  const int per_service = queue_requests();
  constexpr std::size_t k_services = 5;
  std::vector<std::unique_ptr<Stack>> stacks;
  for (std::size_t n = 1; n <= k_services; ++n) stacks.push_back(service_stack(n));
  // Every service's journal in the first stack's state database (the
  // environment names it for every config).
  Stack& home = *stacks.front();
  for (const auto& [key, value] : home.env()) ::setenv(key.c_str(), value.c_str(), 1);
  TempDir logs;

  // Every request queued before any agent runs: one submitter per service, side by side.
  std::vector<std::future<int>> submitters;
  for (std::size_t n = 1; n <= k_services; ++n) {
    submitters.push_back(std::async(std::launch::async, [&, n] {
      int failures = 0;
      for (int r = 1; r <= per_service; ++r) {
        const auto out = run_command({LBCTL_BINARY, "submit", "--queue", "--release", release_name(n, r), "-c",
                                      stacks[n - 1]->config_file().string()},
                                     60s, home.env());
        if (out.exit_code != 0) ++failures;
      }
      return failures;
    }));
  }
  for (auto& s : submitters) CHECK(s.get() == 0);
  const std::string total = std::to_string(per_service * static_cast<int>(k_services));
  REQUIRE(home.postgres().query_value("SELECT count(*) FROM lbctl.requests WHERE state = 'queued'", "lbctl") == total);

  std::vector<std::string> argv{LBCTL_BINARY, "agent", "--poll", "500ms"};
  for (const auto& s : stacks) argv.insert(argv.end(), {"-c", s->config_file().string()});
  const auto started = AgentSteady::now();
  std::vector<std::unique_ptr<ChildProcess>> agents;
  for (int a = 1; a <= 3; ++a) {
    agents.push_back(std::make_unique<ChildProcess>(argv, logs / ("agent" + std::to_string(a) + ".txt")));
  }
  const bool all_ran = eventually(
      [&] {
        return home.postgres().query_value(
                   "SELECT count(*) FROM lbctl.cutovers WHERE status NOT IN ('running', 'needs_operator')", "lbctl") ==
               total;
      },
      std::chrono::seconds(60 + 12 * per_service));
  const long took = ms_since(started);
  std::string usage;
  for (std::size_t a = 0; a < agents.size(); ++a) {
    const auto [cpu, rss] = cpu_and_rss(agents[a]->pid());
    usage += fmt::format("agent {}: {:.1f} s CPU, {} MiB peak RSS (ASan build); ", a + 1, cpu, rss);
  }
  const auto by_agent = home.postgres().query_value(
      "SELECT string_agg(agent || ': ' || n, '; ') FROM (SELECT agent, count(*) n FROM lbctl.requests "
      "GROUP BY agent ORDER BY agent) t",
      "lbctl");
  WARN(total << " requests (" << per_service << " x " << k_services << " services) ran in " << took << " ms by 3 agents; "
             << usage << "taken: " << by_agent);
  for (auto& a : agents) CHECK(a->stop() == 0);
  std::string agent_logs;
  for (std::size_t a = 1; a <= agents.size(); ++a) agent_logs += read_file(logs / ("agent" + std::to_string(a) + ".txt"));
  INFO(agent_logs);
  INFO(home.postgres().query_value("SELECT string_agg(id || ' ' || service || ' ' || status || ' ' || coalesce(error, ''), "
                                   "E'\\n' ORDER BY id) FROM lbctl.cutovers", "lbctl"));
  REQUIRE(all_ran);

  // Each request taken once, by one cutover; every cutover completed.
  CHECK(home.postgres().query_value("SELECT count(*) FROM lbctl.requests WHERE state = 'taken'", "lbctl") == total);
  CHECK(home.postgres().query_value("SELECT count(DISTINCT cutover_id) FROM lbctl.requests", "lbctl") == total);
  CHECK(home.postgres().query_value("SELECT count(*) FROM lbctl.cutovers", "lbctl") == total);
  CHECK(home.postgres().query_value("SELECT count(*) FROM lbctl.cutovers WHERE status = 'completed'", "lbctl") == total);
  // In order per service: the cutovers, by id, carry the releases as submitted.
  for (std::size_t n = 1; n <= k_services; ++n) {
    std::string expected;
    for (int r = 1; r <= per_service; ++r) expected += (r == 1 ? "" : ",") + release_name(n, r);
    INFO("shop" << n);
    CHECK(home.postgres().query_value("SELECT string_agg(c.release, ',' ORDER BY c.id) FROM lbctl.cutovers c "
                                      "WHERE c.service = 'shop" + std::to_string(n) + "'",
                                      "lbctl") == expected);
    const std::string last = release_name(n, per_service);
    CHECK(stacks[n - 1]->fleet_view() == std::vector<std::string>{"lb1 " + last + "-1 UP", "lb1 " + last + "-2 UP"});
  }
}
