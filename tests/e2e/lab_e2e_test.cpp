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
  const auto result = through_lb1.stop();
  INFO(result.text);
  CHECK(result.requests > 100);
  CHECK(result.non_2xx + result.socket_errors == 0);
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
  const auto result = through_lb1.stop();
  INFO(result.text);
  CHECK(result.non_2xx + result.socket_errors == 0);

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
