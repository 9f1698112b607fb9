// Cutovers across hosts, with the network failing between them: a lab of
// network namespaces (scripts/lab) where lbctl, the app servers and wrk run
// on "deploy", HAProxy with sshd on "lb1" (reached over ssh) and HAProxy
// behind its TLS listen sections on "lb2". Faults are real: a host's cable
// pulled (ip link set eth0 down: no reset, nothing), not a mock.

#include "tests/support/catch.hpp"

#include <fstream>
#include <thread>

#include "tests/e2e/stack.hpp"
#include "tests/e2e/under_load.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

StackOptions lab_stack() {
  StackOptions options;
  options.lab = true;
  options.master_worker = true;
  options.persist = true;
  return options;
}

// Waits until lbctl's log says `text` (a step starting, say).
bool log_says(const std::filesystem::path& log, const std::string& text, std::chrono::milliseconds timeout = 120s) {
  return eventually([&] { return read_file(log).find(text) != std::string::npos; }, timeout);
}

// Each LB gives up on an unreachable LB after `timeout` instead of 30 s.
void set_unreachable_timeout(Stack& stack, const std::string& timeout) {
  std::string text = read_file(stack.config_file());
  for (std::size_t at = text.find("    backend: app\n"); at != std::string::npos;
       at = text.find("    backend: app\n", at + 1)) {
    text.insert(at, "    unreachable_timeout: " + timeout + "\n");
    at += 30;
  }
  std::ofstream(stack.config_file()) << text;
}

// wrk's run through one LB: it ran, and not one request failed.
void check_none_failed(Load& load) {
  const auto result = load.stop();
  INFO(result.text);
  CHECK(result.requests > 100);
  CHECK(result.non_2xx + result.socket_errors == 0);
}

std::vector<std::string> view_of(Stack& stack, const std::string& lb) {
  std::vector<std::string> view;
  for (const auto& line : sorted_view(stack)) {
    if (line.starts_with(lb + " ")) view.push_back(line.substr(lb.size() + 1));
  }
  return view;
}

}  // namespace

TEST_CASE("lab: lb2's cable pulled for 5 s mid-drain: ridden out, exit 0, 0 failed requests through lb1",
          "[e2e][lab]") {
  Stack stack(lab_stack());
  TempDir logs;
  Load through_lb1(stack.lb(0).address(), stack.lb(0).frontend_port(), logs / "wrk1.txt", stack.client_launcher());
  auto lbctl = stack.start_lbctl({"cutover", "--yes"}, logs / "lbctl.log");
  REQUIRE(log_says(logs / "lbctl.log", "drain started"));
  stack.lab().link("lb2", false);
  std::this_thread::sleep_for(5s);
  stack.lab().link("lb2", true);
  const int code = lbctl->wait(180s);
  INFO(read_file(logs / "lbctl.log"));
  CHECK(code == 0);
  CHECK(eventually([&] { return sorted_view(stack) == k_done_view; }, 10s));
  check_none_failed(through_lb1);
}

TEST_CASE("lab: lb2 cut off past unreachable_timeout during attach: rolled back on lb1, the message names lb2, once "
          "lb2 is back, resume finishes the rollback there and lb2 is as lb1 is",
          "[e2e][lab]") {
  Stack stack(lab_stack());
  set_unreachable_timeout(stack, "3s");
  TempDir logs;
  Load through_lb1(stack.lb(0).address(), stack.lb(0).frontend_port(), logs / "wrk1.txt", stack.client_launcher());
  auto lbctl = stack.start_lbctl({"cutover", "--yes"}, logs / "lbctl.log");
  REQUIRE(log_says(logs / "lbctl.log", "attach started"));
  stack.lab().link("lb2", false);
  const int code = lbctl->wait(180s);
  const std::string log = read_file(logs / "lbctl.log");
  INFO(log);
  CHECK(code != 0);
  CHECK(log.find("lb2") != std::string::npos);
  // lb1 is as it was before the cutover.
  CHECK(view_of(stack, "lb1") == std::vector<std::string>{"old-1 UP", "old-2 UP"});
  check_none_failed(through_lb1);

  stack.lab().link("lb2", true);
  // The new servers still run (lb2 might have sent them traffic) until the rollback ends there.
  CHECK(stack.server_running("v2-1"));
  const auto resumed = stack.lbctl({"resume"});
  INFO(resumed.out);
  // The rollback it resumes ends as rollbacks do: exit 1, rolled back.
  CHECK(resumed.exit_code == 1);
  CHECK(eventually([&] { return view_of(stack, "lb2") == view_of(stack, "lb1"); }, 15s));
  CHECK(view_of(stack, "lb2") == std::vector<std::string>{"old-1 UP", "old-2 UP"});
  CHECK_FALSE(stack.server_running("v2-1"));
  // And reconcile finds nothing to do.
  const auto reconciled = stack.lbctl({"reconcile", "--yes"});
  INFO(reconciled.out);
  CHECK(reconciled.exit_code == 0);
}

namespace {

StackOptions app_hosts_stack() {
  StackOptions options = lab_stack();
  options.app_hosts = true;
  return options;
}

}  // namespace

TEST_CASE("lab: app servers on hosts of their own, Postgres on another: new servers cloned onto the spare hosts over "
          "ssh (configs/app-hosts), one ssh login per host, exit 0, 0 failed requests",
          "[e2e][lab]") {
  Stack stack(app_hosts_stack());
  REQUIRE(stack.app_host_of("old-1") == "app1");
  REQUIRE(stack.app_host_of("old-2") == "app2");
  TempDir logs;
  Load through_lb1(stack.lb(0).address(), stack.lb(0).frontend_port(), logs / "wrk1.txt", stack.client_launcher());
  Load through_lb2(stack.lb(1).address(), stack.lb(1).frontend_port(), logs / "wrk2.txt", stack.client_launcher());
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 0);
  CHECK(sorted_view(stack) == k_done_view);
  // The new servers on the spare hosts, one each; the old ones stopped, their folders gone.
  CHECK(stack.app_host_of("v2-1") == "app3");
  CHECK(stack.app_host_of("v2-2") == "app4");
  CHECK(stack.server_running("v2-1"));
  CHECK(stack.server_running("v2-2"));
  CHECK(stack.app_host_of("old-1").empty());
  CHECK(stack.app_host_of("old-2").empty());
  // The migrations ran against the database host, over TCP.
  CHECK(stack.orders_has_column("total_cents"));
  CHECK_FALSE(stack.orders_has_column("legacy_total"));
  // Connection sharing: several commands on each host (drain and terminate
  // on app1 and app2; list and start on app3 and app4), one login each.
  for (const char* host : {"app1", "app2", "app3", "app4"}) {
    INFO(host << ": " << read_file(stack.app_sshd(host).dir() / "sshd.log"));
    CHECK(stack.app_sshd(host).sessions() >= 2);
    CHECK(stack.app_sshd(host).logins() == 1);
  }
  for (auto* load : {&through_lb1, &through_lb2}) check_none_failed(*load);
}

TEST_CASE("lab: an app host cut off after attach: its new server died, the LBs rolled back by itself with 0 failed "
          "requests, an operator told the server could not be stopped, abort finishes once the host is back",
          "[e2e][lab]") {
  // Paused after attach (manual promotion), both pools serving: the cut
  // comes after attach and before detach whatever the machine's speed (a
  // drain that ended first would detach the old servers before HAProxy
  // noticed, and the cutover would be past its point of no return).
  StackOptions options = app_hosts_stack();
  options.extra_config = "promotion:\n  mode: manual\n";
  Stack stack(options);
  TempDir logs;
  Load through_lb1(stack.lb(0).address(), stack.lb(0).frontend_port(), logs / "wrk1.txt", stack.client_launcher());
  Load through_lb2(stack.lb(1).address(), stack.lb(1).frontend_port(), logs / "wrk2.txt", stack.client_launcher());
  auto lbctl = stack.start_lbctl({"cutover", "--yes"}, logs / "lbctl.log");
  REQUIRE(log_says(logs / "lbctl.log", "paused, waiting for promote"));
  REQUIRE(stack.app_host_of("v2-1") == "app3");
  stack.lab().partition("app3", true);
  const int code = lbctl->wait(180s);
  const std::string log = read_file(logs / "lbctl.log");
  INFO(log);
  // Everything but stopping v2-1 was done by itself; that one needs a person
  // (it may still run the new release where lbctl cannot reach it): exit 3.
  CHECK(code == 3);
  CHECK(log.find("rolling back") != std::string::npos);
  CHECK(log.find("new server v2-1 (" + stack.lab().address("app3")) != std::string::npos);
  CHECK(log.find("died after attach") != std::string::npos);
  CHECK(log.find("the old servers serve again and the new ones are off every load balancer, but terminate v2-1") !=
        std::string::npos);
  // Both LBs as they were: the old servers back in rotation, the new ones gone.
  CHECK(view_of(stack, "lb1") == std::vector<std::string>{"old-1 UP", "old-2 UP"});
  CHECK(view_of(stack, "lb2") == std::vector<std::string>{"old-1 UP", "old-2 UP"});
  CHECK(stack.server_running("old-1"));
  CHECK(stack.server_running("old-2"));
  CHECK_FALSE(stack.server_running("v2-2"));
  for (auto* load : {&through_lb1, &through_lb2}) check_none_failed(*load);
  // app3 back: abort finishes the rollback there.
  stack.lab().partition("app3", false);
  CHECK(stack.server_running("v2-1"));
  const auto aborted = stack.lbctl({"abort"});
  INFO(aborted.out);
  // abort's own exit: 0, the rollback it asked for is done.
  CHECK(aborted.exit_code == 0);
  CHECK(aborted.out.find("rolled back") != std::string::npos);
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK(stack.app_host_of("v2-1").empty());
}
