// Fleets as they are: a backend that also holds a backup sorry-server and a
// server another team owns (excluded by name), under load.

#include "tests/support/catch.hpp"

#include <algorithm>
#include <fstream>

#include "tests/e2e/stack.hpp"
#include "tests/e2e/under_load.hpp"
#include "tests/support/app_server_fixture.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST_CASE("a backup sorry-server and a server excluded by name are left untouched: exit 0, 0 failed requests",
          "[chaos][fleet][both-haproxy]") {
  AppServerFixture sorry(AppServerOptions{.name = "sorry"});
  AppServerFixture pinned(AppServerOptions{.name = "pinned"});
  StackOptions options;
  options.edit_lb_config = [&](std::size_t, const std::string& generated) {
    return generated + "  server sorry " + sorry.address() + " backup check inter 200ms\n" + "  server pinned " +
           pinned.address() + " check inter 200ms fall 2 rise 2\n";
  };
  Stack stack(options);
  auto config = read_file(stack.config_file());
  const auto old_pool = config.find("old_pool:\n");
  REQUIRE(old_pool != std::string::npos);
  config.insert(old_pool + 10, "  exclude: [pin*]\n");
  std::ofstream(stack.config_file()) << config;
  REQUIRE(eventually([&] { return stack.lb(0).stat_field("pinned", "status") == "UP"; }, 10s));
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  const auto plan = stack.lbctl({"plan"});
  INFO(plan.out);
  CHECK(plan.out.find("left alone: sorry (backup server), pinned (old_pool.exclude: pin*)") != std::string::npos);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 0);
  for (auto* load : {&load1, &load2}) {
    const auto result = load->stop();
    INFO(result.text);
    CHECK(result.requests > 100);
    CHECK(result.non_2xx + result.socket_errors == 0);
  }
  const Strings done{"lb1 pinned UP", "lb1 sorry UP", "lb1 v2-1 UP", "lb1 v2-2 UP",
                     "lb2 pinned UP", "lb2 sorry UP", "lb2 v2-1 UP", "lb2 v2-2 UP"};
  auto view = stack.fleet_view();
  std::sort(view.begin(), view.end());
  CHECK(view == done);
  // Named once, where the plan says it was left alone; no command touched it.
  CHECK(run.out.find("sorry") == run.out.rfind("sorry"));
  CHECK(run.out.find("app/sorry") == std::string::npos);
  CHECK(run.out.find("app/pinned") == std::string::npos);
  CHECK(sorry.running());
  CHECK(pinned.running());
  CHECK_FALSE(stack.server_running("old-1"));
  CHECK_FALSE(stack.server_running("v2-3"));  // two new servers for the two old ones
}

TEST_CASE("LBs lbctl cannot change: static-rr, a hash without hash-type consistent, a socket below level admin, exit "
          "2 before any change, plan says the same",
          "[chaos][fleet][both-haproxy]") {
  const auto which = GENERATE(as<std::string>{}, "static-rr on lb1", "operator socket on lb2",
                              "balance source on lb2, asked of HAProxy", "balance source on lb2, read in the file");
  INFO(which);
  StackOptions options;
  // With persist, lbctl reads hash-type in the file; without, it asks HAProxy with a throwaway server.
  options.persist = which.ends_with("read in the file");
  options.edit_lb_config = [&](std::size_t i, const std::string& generated) {
    std::string text = generated;
    if (which == "static-rr on lb1" && i == 0) {
      const auto at = text.find("balance roundrobin");
      text.replace(at, 18, "balance static-rr");
    }
    if (which.starts_with("balance source") && i == 1) {
      const auto at = text.find("balance roundrobin");
      text.replace(at, 18, "balance source");
    }
    if (which == "operator socket on lb2" && i == 1) {
      const auto at = text.find(" level admin", text.find("stats socket ipv4@"));
      text.replace(at, 12, " level operator");
    }
    return text;
  };
  Stack stack(options);
  const auto before = stack.fleet_view();
  const std::string expected =
      which == "static-rr on lb1"          ? "lb1: backend app uses `balance static-rr`, a static algorithm"
      : which == "operator socket on lb2"  ? "lb2: its runtime API socket is at level operator: lbctl needs `level admin`"
      : which.ends_with("asked of HAProxy") ? "lb2: backend app balances by source without `hash-type consistent` "
                                              "(HAProxy refused a throwaway server"
                                            : "lb2: backend app balances by source without `hash-type consistent` (";
  const auto plan = stack.lbctl({"plan"});
  INFO(plan.out);
  CHECK(plan.exit_code == 2);
  CHECK(plan.out.find(expected) != std::string::npos);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 2);
  CHECK(run.out.find(expected) != std::string::npos);
  CHECK(stack.fleet_view() == before);
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK_FALSE(stack.orders_has_column("total_cents"));  // no pre-migration ran
  CHECK_FALSE(std::filesystem::exists(stack.config_file().parent_path() / "backups"));  // no backup taken
  if (which.ends_with("read in the file")) CHECK(run.out.find("says `hash-type map-based`") != std::string::npos);
}

TEST_CASE("balance source with hash-type consistent: HAProxy takes the throwaway server, the cutover works",
          "[chaos][fleet][both-haproxy]") {
  StackOptions options;
  options.edit_lb_config = [](std::size_t, const std::string& generated) {
    std::string text = generated;
    const auto at = text.find("balance roundrobin");
    text.replace(at, 18, "balance source\n  hash-type consistent");
    return text;
  };
  Stack stack(options);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("balances by") == std::string::npos);
  CHECK(sorted_view(stack) == k_done_view);
  for (std::size_t i = 0; i < stack.lb_count(); ++i) CHECK(stack.lb(i).status("lbctl-probe").empty());
}
