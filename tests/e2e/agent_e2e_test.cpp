// E2E: `lbctl agent` and `lbctl submit` against real HAProxy and Postgres:
// a cutover taken over from a killed agent under load, and many requests
// for many services queued at once across several agents.

#include "tests/support/catch.hpp"

#include <csignal>
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

TEST_CASE("two agents: the one running a submitted cutover is killed mid-drain under load; the other adopts it "
          "within lease + poll and finishes it; submit --wait exits 0",
          "[e2e][agent]") {
  Stack stack;
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  // A request long enough to hold the cutover in its drain past the kill and the take-over.
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=15000", 60s); });
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

  CHECK(submit->wait(120s) == 0);
  INFO(read_file(logs / "submit.txt"));
  INFO(read_file(logs / "b.txt"));
  CHECK(log_has(logs / "submit.txt", "taken over by agent"));
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
  CHECK(stack.postgres().query_value("SELECT count(*) FROM lbctl.events WHERE kind = 'taken_over'", "lbctl") == "1");
  CHECK(stack.postgres().query_value("SELECT state || ' ' || cutover_id FROM lbctl.requests", "lbctl") == "taken 1");
  for (const auto& name : stack.old_names()) CHECK_FALSE(stack.server_running(name));

  // SIGTERM: the agent stops, exit 0.
  CHECK(b->stop() == 0);
  CHECK(log_has(logs / "b.txt", "stopped"));
}
