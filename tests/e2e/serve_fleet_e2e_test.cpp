// `lbctl serve` watching twenty services on the same three HAProxy, at
// HAProxy's default `stats maxconn` (10): it reads each LB once per interval
// for all of them, so a cutover running on one service under wrk meanwhile
// is never starved of the stats socket, and no service is ever shown with an
// LB down while every LB answers. An LB that stops is shown down within two
// intervals, with why, on the page (Chromium) and in /metrics.

#include "tests/support/catch.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/e2e/stack.hpp"
#include "tests/support/chromium_fixture.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t k_services = 20;

std::string service_name(std::size_t i) { return i == 0 ? "shop" : fmt::format("svc{:02}", i + 1); }

// Nineteen more backends on every LB (one server each, the first old server).
StackOptions twenty_service_stack() {
  StackOptions options;
  options.lbs = 3;
  options.migrations = false;
  options.edit_lb_config = [](std::size_t, const std::string& text) {
    std::string more;
    for (std::size_t i = 1; i < k_services; ++i) {
      more += "backend " + service_name(i) + "\n  balance roundrobin\n";
    }
    return text + more;
  };
  return options;
}

// The config of service i (i > 0): the same LBs, its own backend.
std::filesystem::path write_service(const TempDir& dir, Stack& stack, std::size_t i) {
  std::string yaml = "service: " + service_name(i) + "\nstate:\n  database_url: \"from-the-environment\"\nload_balancers:\n";
  for (std::size_t lb = 0; lb < stack.lb_count(); ++lb) {
    yaml += fmt::format("  - name: lb{}\n    runtime_api: {}\n    backend: {}\n", lb + 1, stack.lb(lb).runtime_api_unix(),
                        service_name(i));
  }
  yaml += "provider:\n  type: static\n  servers: [{name: v2-1, address: \"127.0.0.1:1\"}]\n";
  return dir.write(service_name(i) + ".yaml", yaml);
}

// LBs shown down right now, "service/lb (reason)"; nullopt while a service is not polled yet.
std::optional<std::set<std::string>> shown_down(std::uint16_t port) {
  const auto reply = http_get(port, "/api/v1/services");
  const auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (j.is_discarded() || !j.contains("services") || j["services"].size() != k_services) return std::nullopt;
  std::set<std::string> down;
  for (const auto& s : j["services"]) {
    if (s["state"] == "unknown") return std::nullopt;
    for (const auto& lb : s["load_balancers"]) {
      if (!lb["up"].get<bool>()) down.insert(s["service"].get<std::string>() + "/" + lb["name"].get<std::string>() + " (" +
                                            lb.value("reason", "") + ")");
    }
  }
  return down;
}

struct Served {
  std::unique_ptr<ChildProcess> process;
  std::uint16_t port = 0;
};

// serve every `interval` for the stack's service and nineteen more, polled once with every LB up.
Served serve_twenty(Stack& stack, const TempDir& dir, std::string interval = "500ms") {
  std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0", "--interval", std::move(interval)};
  for (std::size_t i = 1; i < k_services; ++i) {
    args.push_back("-c");
    args.push_back(write_service(dir, stack, i).string());
  }
  Served served{stack.start_lbctl(args, dir / "serve.txt"), 0};  // the stack's own config (shop) comes last
  served.port = printed_port(dir / "serve.txt");
  INFO(read_file(dir / "serve.txt"));
  REQUIRE(served.port != 0);
  std::optional<std::set<std::string>> down;
  REQUIRE(eventually([&] { return (down = shown_down(served.port)) && down->empty(); }, 30s));
  return served;
}

}  // namespace

TEST_CASE("serve with 20 services on 3 LBs at stats maxconn 10: a cutover beside it is never starved",
          "[e2e][serve][fleet][both-haproxy]") {
  Stack stack(twenty_service_stack());
  TempDir dir;
  const auto serve = serve_twenty(stack, dir);
  const auto port = serve.port;

  Load load1(stack.lb(0).frontend_port(), dir / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), dir / "wrk2.txt");
  auto cutover = std::async(std::launch::async, [&] { return stack.lbctl({"cutover", "--yes"}); });
  std::set<std::string> ever_down;
  std::size_t samples = 0;
  while (cutover.wait_for(200ms) != std::future_status::ready) {
    if (auto now = shown_down(port)) {
      ever_down.insert(now->begin(), now->end());
      ++samples;
    }
  }
  const auto result = cutover.get();
  INFO(result.out);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("timed out") == std::string::npos);
  CHECK(result.out.find("no answer within") == std::string::npos);
  CHECK(samples > 5);
  CHECK(ever_down.empty());
  for (const auto& lb : ever_down) WARN("shown down: " << lb);
  const auto r1 = load1.stop();
  const auto r2 = load2.stop();
  CHECK(r1.non_2xx + r1.socket_errors + r2.non_2xx + r2.socket_errors == 0);
}

TEST_CASE("serve shows a stopped LB down within two intervals, with why, on the page and in /metrics",
          "[e2e][serve][fleet]") {
  Stack stack(twenty_service_stack());
  TempDir dir;
  // Polled every 1 s: at 500 ms, a loaded machine (two e2e tests at once)
  // made one poll of twenty services late by more than the bound.
  const auto serve = serve_twenty(stack, dir, "1s");
  const auto port = serve.port;
  std::optional<std::set<std::string>> down;
  ChromiumFixture page("http://127.0.0.1:" + std::to_string(port) + "/services/svc05");
  const char* probe = R"js((document.querySelector('.lbwrap .error[data-reason]') || {}).textContent || '')js";

  stack.lb(2).stop();
  const auto stopped = std::chrono::steady_clock::now();
  // A read in flight when lb3 stopped sees its connection cut (another
  // reason); the next poll, an interval later, is refused.
  const auto all_refused = [&] {
    if (!(down = shown_down(port)) || down->size() != k_services) return false;
    return std::all_of(down->begin(), down->end(), [](const std::string& lb) { return lb.ends_with("/lb3 (refused)"); });
  };
  const bool refused = eventually(all_refused, 8s);
  const auto seen_after = std::chrono::steady_clock::now() - stopped;
  INFO("shown down: " << (down ? fmt::format("{}", fmt::join(*down, ", ")) : std::string("(no answer)")));
  REQUIRE(refused);
  CHECK(seen_after <= 2300ms);  // two intervals of 1 s, and 300 ms for this test's own reads of the API
  const auto metrics = http_get(port, "/metrics").body;
  CHECK(metrics.find("lbctl_lb_down{service=\"svc05\",lb=\"lb3\",reason=\"refused\"} 1") != std::string::npos);
  CHECK(metrics.find("lbctl_lb_up{service=\"svc05\",lb=\"lb3\"} 0") != std::string::npos);
  CHECK(metrics.find("lbctl_lb_down{service=\"svc05\",lb=\"lb1\"") == std::string::npos);
  std::string shown;
  CHECK(eventually([&] { return (shown = page.evaluate(probe).get<std::string>()).find("down (refused)") != std::string::npos; }, 10s));
  INFO(shown);
  WARN("lb3 shown down " << std::chrono::duration_cast<std::chrono::milliseconds>(seen_after).count()
                         << " ms after it stopped (interval 1 s): " << shown);
}
