// lbctl cutover against two real HAProxy instances, a real Postgres, the local
// provider starting real app servers, and wrk through both LBs meanwhile.

#include "tests/support/catch.hpp"

#include <csignal>
#include <future>
#include <nlohmann/json.hpp>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {


void check_no_failures(Load& lb1, Load& lb2) {
  for (auto* load : {&lb1, &lb2}) {
    const auto result = load->stop();
    INFO(result.text);
    CHECK(result.requests > 100);
    CHECK(result.non_2xx == 0);
    CHECK(result.socket_errors == 0);
  }
}

}  // namespace

TEST_CASE("a cutover under load ends with exit 0, 0 failed requests and only the new pool UP", "[e2e][both-haproxy]") {
  Stack stack;
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  UpSampler sampler(stack);
  const auto run = stack.lbctl({"cutover", "--yes"});
  const auto lowest_up = sampler.stop();
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  check_no_failures(load1, load2);
  CHECK(stack.fleet_view() == k_done_view);
  CHECK_FALSE(stack.server_running("old-1"));
  CHECK_FALSE(stack.server_running("old-2"));
  CHECK(stack.server_running("v2-1"));
  CHECK(stack.server_running("v2-2"));
  CHECK(stack.orders_has_column("total_cents"));
  CHECK_FALSE(stack.orders_has_column("legacy_total"));
  CHECK(stack.postgres().query_value("SELECT count(*) FROM lbctl_schema_migrations", "app") == "2");
  // The number of UP servers never fell below the old pool's size.
  CHECK(sampler.samples() > 20);
  CHECK(lowest_up >= 2);
  // status and history read the journal.
  const auto status = stack.lbctl({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  const auto json = nlohmann::json::parse(status.out);
  CHECK(json["cutover"]["status"] == "completed");
  const auto history = stack.lbctl({"history"});
  CHECK(history.out.find("completed") != std::string::npos);
}

TEST_CASE("a new server that fails its check rolls back: exit 1, old pool intact and UP, 0 failed requests", "[e2e]") {
  StackOptions options;
  // Its health file is another one, and every other path answers 500.
  options.new_server_args = {"--health-file", "not-the-checked-file.html", "--status", "500"};
  Stack stack(options);
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("status 500, expected 200") != std::string::npos);
  check_no_failures(load1, load2);
  CHECK(stack.fleet_view() == k_original_view);
  CHECK(stack.server_running("old-1"));
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK_FALSE(stack.server_running("v2-2"));
}

TEST_CASE("an old server holding a long request drains only after it ends", "[e2e][both-haproxy]") {
  Stack stack;
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=6000", 30s); });
  REQUIRE(eventually([&] {
    return stack.lb(0).stat_field("old-1", "scur") == "1" || stack.lb(0).stat_field("old-2", "scur") == "1";
  }, 3s));
  const auto started = std::chrono::steady_clock::now();
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  const auto reply = held.get();
  CHECK(reply.status == 200);  // finished on its old server, not cut
  CHECK(std::chrono::steady_clock::now() - started > 3s);
  // The journal's events: the detach began after the drain saw 0 sessions.
  CHECK(run.out.find("\"event\":\"drained\"") != std::string::npos);
  CHECK(run.out.find("sessions_cut") == std::string::npos);
}

TEST_CASE("with on_timeout force the held request is cut at the timeout and the cut is reported", "[e2e][both-haproxy]") {
  StackOptions options;
  options.extra_config = "drain:\n  method: health_file\n  poll: 200ms\n  timeout: 2s\n  on_timeout: force\n";
  Stack stack(options);
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(1).frontend_port(), "/slow?ms=60000", 60s); });
  REQUIRE(eventually([&] {
    return stack.lb(1).stat_field("old-1", "scur") == "1" || stack.lb(1).stat_field("old-2", "scur") == "1";
  }, 3s));
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("cut 1 sessions") != std::string::npos);
  CHECK(run.out.find("on lb2: 1") != std::string::npos);
  CHECK(held.get().status != 200);
  CHECK(stack.fleet_view() == k_done_view);
}

TEST_CASE("lbctl killed during attach, during the drain and after the detach resumes to the same end state", "[e2e]") {
  // Where to kill it: the first line of the step in the plain output.
  const auto where = GENERATE(as<std::string>{}, "attach: attach started", "watch: watch started",
                              "post_migrate: post_migrate started");
  INFO("SIGKILL at " << where);
  Stack stack;
  // A held request keeps the drain open long enough to be killed in it.
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=3000", 30s); });
  TempDir logs;
  auto lbctl = stack.start_lbctl({"cutover", "--yes"}, logs / "cutover.txt");
  REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find(where) != std::string::npos; }, 60s));
  lbctl->signal(SIGKILL);
  lbctl->wait(5s);
  const auto status = stack.lbctl({"status", "--json"});
  CHECK(nlohmann::json::parse(status.out)["cutover"]["status"] == "interrupted");
  const auto resumed = stack.lbctl({"resume"});
  INFO(read_file(logs / "cutover.txt") << "\n--- resume:\n" << resumed.out);
  CHECK(resumed.exit_code == 0);
  CHECK(stack.fleet_view() == k_done_view);
  CHECK_FALSE(stack.server_running("old-1"));
  CHECK_FALSE(stack.server_running("old-2"));
  CHECK(stack.server_running("v2-1"));
  CHECK(stack.orders_has_column("total_cents"));
  CHECK_FALSE(stack.orders_has_column("legacy_total"));
  held.get();
}

TEST_CASE("a second cutover while one runs exits 4 naming the holder", "[e2e]") {
  Stack stack;
  // A request long enough to hold the first cutover in its drain however
  // slowly a loaded machine reaches it; the second is tried once the drain
  // has started (its watch could end before the second asked).
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=12000", 40s); });
  TempDir logs;
  auto first = stack.start_lbctl({"cutover", "--yes"}, logs / "first.txt");
  REQUIRE(eventually([&] { return read_file(logs / "first.txt").find("drain started") != std::string::npos; }, 60s));
  const auto second = stack.lbctl({"cutover", "--yes"});
  CHECK(second.exit_code == 4);
  CHECK(second.out.find("cutover 1") != std::string::npos);
  CHECK(second.out.find("pid " + std::to_string(first->pid())) != std::string::npos);
  CHECK(first->wait(60s) == 0);
  held.get();
}

TEST_CASE("an unreachable LB before the start: exit 5 and nothing changed", "[e2e]") {
  Stack stack;
  stack.lb(1).stop();
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 5);
  CHECK(run.out.find("lb2") != std::string::npos);
  CHECK(stack.lb(0).servers() == Strings{"old-1", "old-2"});
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK_FALSE(stack.orders_has_column("total_cents"));
}

TEST_CASE("lbctl abort during the drain rolls back: old pool UP, new servers gone", "[e2e]") {
  Stack stack;
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=20000", 40s); });
  TempDir logs;
  auto cutover = stack.start_lbctl({"cutover", "--yes"}, logs / "cutover.txt");
  REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find("watch started") != std::string::npos; }, 60s));
  const auto aborted = stack.lbctl({"abort"});
  INFO(read_file(logs / "cutover.txt") << "\n--- abort:\n" << aborted.out);
  CHECK(aborted.exit_code == 0);
  CHECK(cutover->wait(30s) == 1);
  CHECK(stack.fleet_view() == k_original_view);
  CHECK(stack.server_running("old-1"));
  CHECK(stack.server_running("old-2"));
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK_FALSE(stack.server_running("v2-2"));
  CHECK(held.get().status == 200);  // the old session was never cut
}

namespace {

// old-3 crashed (DOWN on both LBs) and an operator put old-2 in MAINT on lb1.
void break_old_pool(Stack& stack) {
  stack.crash_old_server(3);
  for (std::size_t i = 0; i < stack.lb_count(); ++i) {
    REQUIRE(eventually([&] { return stack.lb(i).status("old-3") == "DOWN"; }, 10s));
  }
  stack.lb(0).command("set server app/old-2 state maint");
  REQUIRE(stack.lb(0).status("old-2") == "MAINT");
}

}  // namespace

TEST_CASE("an old pool with a crashed server and one in MAINT is replaced whole", "[e2e][both-haproxy]") {
  StackOptions options;
  options.old_servers = 3;
  Stack stack(options);
  break_old_pool(stack);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  CHECK(stack.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb1 v2-3 UP", "lb2 v2-1 UP", "lb2 v2-2 UP",
                                      "lb2 v2-3 UP"});
  CHECK_FALSE(stack.server_running("old-1"));
  CHECK_FALSE(stack.server_running("old-2"));
}

TEST_CASE("a rollback leaves a crashed old server DOWN and one an operator put in MAINT in MAINT", "[e2e][both-haproxy]") {
  StackOptions options;
  options.old_servers = 3;
  options.new_server_args = {"--health-file", "not-the-checked-file.html", "--status", "500"};
  Stack stack(options);
  break_old_pool(stack);
  const auto started = std::chrono::steady_clock::now();
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("rolled back") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < 30s);  // not waiting for old-3 to come back
  CHECK(stack.fleet_view() == Strings{"lb1 old-1 UP", "lb1 old-2 MAINT", "lb1 old-3 DOWN", "lb2 old-1 UP",
                                      "lb2 old-2 UP", "lb2 old-3 DOWN"});
  CHECK_FALSE(stack.server_running("v2-1"));
}

TEST_CASE("lbctl plan shows the commands and changes nothing", "[e2e]") {
  Stack stack;
  const auto plan = stack.lbctl({"plan"});
  INFO(plan.out);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("add server app/v2-1") != std::string::npos);
  CHECK(plan.out.find("pre/20261121_01_add_total.sql") != std::string::npos);
  CHECK(plan.out.find(stack.base_dir().string() + "/old-1/health-check.html") != std::string::npos);
  const auto json = stack.lbctl({"plan", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.out)["new_pool"].size() == 2);
  CHECK(stack.fleet_view() == k_original_view);
  CHECK_FALSE(stack.orders_has_column("total_cents"));
}

TEST_CASE("lbctl status shows the running cutover's step, every LB's view and the drain from another process", "[e2e]") {
  Stack stack;
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=8000", 30s); });
  TempDir logs;
  auto cutover = stack.start_lbctl({"cutover", "--yes"}, logs / "cutover.txt");
  REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find("watch started") != std::string::npos; }, 60s));
  const auto status = stack.lbctl({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  const auto json = nlohmann::json::parse(status.out);
  CHECK(json["cutover"]["status"] == "running");
  CHECK(json["cutover"]["step"] == "watch");
  CHECK(json["cutover"]["pid"] == cutover->pid());
  CHECK(json["drain"]["sessions_left"] == 1);
  REQUIRE(json["load_balancers"].size() == 2);
  const auto& servers = json["load_balancers"][0]["servers"];
  const auto pools = std::count_if(servers.begin(), servers.end(), [](const auto& s) { return s["pool"] == "new"; });
  CHECK(pools == 2);
  const auto text = stack.lbctl({"status"});
  CHECK(text.out.find("step watch") != std::string::npos);
  CHECK(text.out.find("1 sessions left") != std::string::npos);
  CHECK(cutover->wait(60s) == 0);
  CHECK(held.get().status == 200);
  CHECK(nlohmann::json::parse(stack.lbctl({"status", "--json"}).out)["cutover"]["status"] == "completed");
}
