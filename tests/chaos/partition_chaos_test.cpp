// Chaos: the network between lbctl and its state database cut without a
// reset (iptables DROP both ways on the relay lbctl reaches Postgres
// through), under wrk through both LBs, the UP servers sampled every 50 ms.
// Cut for good mid-drain (the relay killed too, so the server frees the
// service lock): the cutover reports the loss within 15 s, changes no LB from
// then on, and exits 3 once reconnect_timeout ran out, while `lbctl abort`
// from another process waits out the lease and rolls back. Healed after 5 s:
// the cutover goes on and exits 0.

#include "tests/support/catch.hpp"

#include <fstream>
#include <future>
#include <thread>

#include "tests/e2e/stack.hpp"
#include "tests/support/network_fault.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;
using Steady = std::chrono::steady_clock;

namespace {


// The stack's config with the state database's timeouts given.
void set_state_timeouts(Stack& stack, const std::string& lines) {
  auto text = read_file(stack.config_file());
  const std::string stock = "  partition_timeout: 1s\n  lease: 2s\n";
  const auto at = text.find(stock);
  REQUIRE(at != std::string::npos);
  text.replace(at, stock.size(), lines);
  std::ofstream(stack.config_file()) << text;
}

long failed(Load& load) {
  const auto result = load.stop();
  INFO(result.text);
  CHECK(result.requests > 100);
  return static_cast<long>(result.non_2xx + result.socket_errors);
}

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

// A stack whose lbctl reaches Postgres through a relay (what the tests cut),
// with the state timeouts given.
struct RelayedStack {
  explicit RelayedStack(const std::string& timeouts) : stack(options()), relay(stack.postgres().tcp_port(), logs / "relay.txt") {
    set_state_timeouts(stack, timeouts);
    stack.set_state_url(stack.postgres().tcp_url("lbctl", relay.host(), relay.port()));
  }
  static StackOptions options() {
    StackOptions o;
    o.postgres_tcp = true;
    o.migrations = false;
    return o;
  }
  // Waits until lb1 counts the held request on an old server.
  void wait_held() {
    REQUIRE(eventually([&] {
      return stack.lb(0).stat_field("old-1", "scur") == "1" || stack.lb(0).stat_field("old-2", "scur") == "1";
    }, 5s));
  }
  // Starts the cutover and waits for its watch.
  std::unique_ptr<ChildProcess> cutover_until_watch() {
    auto cutover = stack.start_lbctl({"cutover", "--yes"}, logs / "cutover.txt");
    REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find("watch: watch started") != std::string::npos; }, 90s));
    return cutover;
  }

  Stack stack;
  TempDir logs;
  TcpRelay relay;
};

}  // namespace

TEST_CASE("the state database cut off mid-drain: the loss seen, no LB changed, exit 3, abort elsewhere rolls back",
          "[chaos][partition]") {
  RelayedStack lab("  partition_timeout: 2s\n  lease: 8s\n  reconnect_timeout: 25s\n");
  auto& stack = lab.stack;
  auto& logs = lab.logs;
  auto& relay = lab.relay;
  // A long request holds the drain open across the cut.
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=40000", 60s); });
  lab.wait_held();
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  UpSampler sampler(stack);
  auto cutover = lab.cutover_until_watch();

  Partition partition(relay);
  relay.kill();  // its Postgres sessions close: the server frees the service lock
  const auto cut = Steady::now();
  REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find("the state database is out of reach") != std::string::npos; },
                     20s));
  const double seen_after = seconds_since(cut);
  CHECK(seen_after < 15);
  const auto view_at_loss = stack.fleet_view();

  // From another process, straight to Postgres: abort waits out the lease, then rolls back.
  std::this_thread::sleep_for(2s);
  CHECK(stack.fleet_view() == view_at_loss);  // nothing changed since the loss
  stack.set_state_url("");
  const auto abort_started = Steady::now();
  const auto aborted = stack.lbctl({"abort"}, 120s);
  INFO(aborted.out);
  CHECK(aborted.exit_code == 0);
  CHECK(aborted.out.find("for the lease of service shop's cutover to run out") != std::string::npos);
  const double abort_took = seconds_since(abort_started);

  const int code = cutover->wait(60s);
  const double exited_after = seconds_since(cut);
  const auto out = read_file(logs / "cutover.txt");
  INFO(out);
  CHECK(code == 3);
  partition.lift();
  CHECK(held.get().status == 200);
  const auto lowest_up = sampler.stop();
  CHECK(failed(load1) + failed(load2) == 0);
  CHECK(lowest_up >= 1);
  CHECK(stack.fleet_view() == k_original_view);
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK(abort_took > 2);  // it waited for the lease
  WARN("the loss reported " << seen_after << " s after the cut (partition_timeout 2 s); abort took " << abort_took
                            << " s (lease 8 s); the cut-off cutover exited 3 after " << exited_after
                            << " s (reconnect_timeout 25 s); " << sampler.samples() << " samples, lowest UP "
                            << lowest_up);
}

TEST_CASE("the state database cut off for 5 s mid-drain: ridden out, exit 0, 0 failed requests", "[chaos][partition]") {
  RelayedStack lab("  partition_timeout: 2s\n  lease: 4s\n  reconnect_timeout: 45s\n");
  auto& stack = lab.stack;
  auto& logs = lab.logs;
  auto& relay = lab.relay;
  const auto held_from = Steady::now();
  auto held = std::async(std::launch::async, [&] {
    auto reply = http_get(stack.lb(0).frontend_port(), "/slow?ms=9000", 60s);
    reply.body += " (after " + std::to_string(seconds_since(held_from)) + " s)";
    return reply;
  });
  lab.wait_held();
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  UpSampler sampler(stack);
  auto cutover = lab.cutover_until_watch();
  const double cut_at = seconds_since(held_from);
  {
    Partition partition(relay);
    std::this_thread::sleep_for(5s);
  }
  INFO("partition from " << cut_at << " s to " << seconds_since(held_from) << " s after the held request started");
  const int code = cutover->wait(120s);
  const auto out = read_file(logs / "cutover.txt");
  INFO(out);
  CHECK(code == 0);
  const auto reply = held.get();
  INFO(reply.headers << reply.body);
  INFO("old-1: " << read_file(stack.base_dir() / "old-1" / "log") << "\nold-2: " << read_file(stack.base_dir() / "old-2" / "log"));
  INFO("lb1: " << read_file(stack.lb(0).config_file().parent_path() / "haproxy.log"));
  CHECK(reply.status == 200);
  const auto lowest_up = sampler.stop();
  CHECK(failed(load1) + failed(load2) == 0);
  CHECK(lowest_up >= 2);
  CHECK(stack.fleet_view() == k_done_view);
}
