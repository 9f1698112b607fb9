// Chaos: the agent running a cutover cut off from Postgres and from both LBs
// at once (it reaches each through a relay, and iptables drops every packet
// of the three, no reset) mid-drain, under wrk. The other agent takes the
// cutover over once its lease ran out and finishes it; the cut-off agent,
// when its network comes back, is refused by the owner token and changes
// nothing.

#include "tests/support/catch.hpp"

#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "tests/e2e/stack.hpp"
#include "tests/support/network_fault.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

using CutSteady = std::chrono::steady_clock;

bool agent_log_has(const std::filesystem::path& log, const std::string& text) {
  return read_file(log).find(text) != std::string::npos;
}

std::uint16_t port_of(const std::string& tcp_address) {
  return static_cast<std::uint16_t>(std::stoi(tcp_address.substr(tcp_address.rfind(':') + 1)));
}

}  // namespace

TEST_CASE("an agent cut off from Postgres and the LBs mid-drain: the other takes the cutover over and finishes it, "
          "and the cut-off one, back, changes nothing",
          "[chaos][agent]") {
  StackOptions options;
  options.postgres_tcp = true;
  options.migrations = false;
  Stack stack(options);
  TempDir logs;
  // Both agents: a 4 s lease; the cut-off one rides out a loss for up to 60 s (it is back before then).
  auto text = read_file(stack.config_file());
  const std::string stock = "  partition_timeout: 1s\n  lease: 2s\n";
  REQUIRE(text.find(stock) != std::string::npos);
  text.replace(text.find(stock), stock.size(), "  partition_timeout: 2s\n  lease: 4s\n  reconnect_timeout: 60s\n");
  std::ofstream(stack.config_file()) << text;

  // The first agent's paths: relays to Postgres and to each LB's runtime API, in a config of its own.
  TcpRelay to_postgres(stack.postgres().tcp_port(), logs / "relay-pg.txt");
  TcpRelay to_lb1(port_of(stack.lb(0).runtime_api_tcp()), logs / "relay-lb1.txt");
  TcpRelay to_lb2(port_of(stack.lb(1).runtime_api_tcp()), logs / "relay-lb2.txt");
  text = std::regex_replace(text, std::regex("runtime_api: " + stack.lb(0).runtime_api_unix()),
                            "runtime_api: tcp:" + to_lb1.host() + ":" + std::to_string(to_lb1.port()));
  text = std::regex_replace(text, std::regex("runtime_api: " + stack.lb(1).runtime_api_tcp()),
                            "runtime_api: tcp:" + to_lb2.host() + ":" + std::to_string(to_lb2.port()));
  const auto relayed_config = logs.write("relayed.yaml", text);
  REQUIRE(text.find(to_lb1.host()) != std::string::npos);
  REQUIRE(text.find(to_lb2.host()) != std::string::npos);
  // relayed.yaml names its servers' folder relative to the stack's config: the same folder.
  REQUIRE(text.find("base_dir: servers") != std::string::npos);
  text = std::regex_replace(text, std::regex("base_dir: servers"), "base_dir: " + stack.base_dir().string());
  std::ofstream(relayed_config) << text;

  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=40000", 90s); });
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");

  stack.set_state_url(stack.postgres().tcp_url("lbctl", to_postgres.host(), to_postgres.port()));
  for (const auto& [key, value] : stack.env()) ::setenv(key.c_str(), value.c_str(), 1);
  auto a = std::make_unique<ChildProcess>(
      std::vector<std::string>{LBCTL_BINARY, "agent", "--poll", "500ms", "-c", relayed_config.string()}, logs / "a.txt");
  stack.set_state_url("");
  auto submit = stack.start_lbctl({"submit", "--release", "v2", "--wait"}, logs / "submit.txt");
  REQUIRE(eventually([&] { return agent_log_has(logs / "a.txt", "drain started"); }, 90s));
  auto b = stack.start_lbctl({"agent", "--poll", "500ms"}, logs / "b.txt");
  REQUIRE(eventually([&] { return agent_log_has(logs / "b.txt", "is held by its runner"); }, 30s));

  auto cut_pg = std::make_unique<Partition>(to_postgres);
  auto cut_lb1 = std::make_unique<Partition>(to_lb1);
  auto cut_lb2 = std::make_unique<Partition>(to_lb2);
  // The relay's own connections to Postgres close with it, so the server
  // frees the cut-off agent's lock (behind a relay the server cannot see
  // that agent go); the agent hears nothing: its packets are dropped.
  to_postgres.kill();
  const auto cut = CutSteady::now();
  REQUIRE(eventually([&] { return agent_log_has(logs / "b.txt", "taken over by agent"); }, 60s));
  const double took = std::chrono::duration<double>(CutSteady::now() - cut).count();
  // The lease (4 s from the runner's last heartbeat), then one poll.
  CHECK(took < 4 + 3);

  // The cut-off agent comes back, to the same addresses, while the other finishes.
  cut_pg.reset();
  cut_lb1.reset();
  cut_lb2.reset();
  to_postgres.restart();
  REQUIRE(eventually([&] { return agent_log_has(logs / "a.txt", "no longer owns it"); }, 60s));
  CHECK(submit->wait(120s) == 0);
  INFO(read_file(logs / "a.txt"));
  INFO(read_file(logs / "b.txt"));
  INFO(read_file(logs / "submit.txt"));
  CHECK(stack.fleet_view() == k_done_view);
  // It stays so: the cut-off agent sends nothing more (and does not start the cutover again).
  std::this_thread::sleep_for(3s);
  CHECK(stack.fleet_view() == k_done_view);
  CHECK(stack.postgres().query_value("SELECT count(*) FROM lbctl.cutovers", "lbctl") == "1");
  CHECK(stack.postgres().query_value("SELECT status FROM lbctl.cutovers", "lbctl") == "completed");
  CHECK(stack.postgres().query_value("SELECT count(*) FROM lbctl.events WHERE kind = 'taken_over'", "lbctl") == "1");
  CHECK(held.get().status == 200);
  const auto r1 = load1.stop();
  const auto r2 = load2.stop();
  INFO(r1.text << r2.text);
  CHECK(r1.non_2xx + r1.socket_errors + r2.non_2xx + r2.socket_errors == 0);
  WARN("taken over " << took << " s after the cut (state.lease 4 s, --poll 500 ms)");
  CHECK(a->stop() == 0);
  CHECK(b->stop() == 0);
}
