// Chaos: the state database (Postgres, which also holds the app's schema)
// stopped mid-cutover, with wrk through every LB and the number of UP
// servers sampled every 50 ms.

#include "tests/support/catch.hpp"

#include <fstream>
#include <future>
#include <thread>
#include <nlohmann/json.hpp>

#include "tests/e2e/stack.hpp"
#include "tests/e2e/under_load.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {


}  // namespace

TEST_CASE("Postgres stopped for 3 s during the attach or the drain: exit 0, the undisturbed end state, 0 failed "
          "requests, min_healthy held",
          "[chaos][outage]") {
  const auto where =
      GENERATE(as<std::string>{}, "attach: attach started", "watch: watch started", "post_migrate: post_migrate started");
  INFO("Postgres stopped at " << where);
  Stack stack;
  TempDir logs;
  // A post-migration that takes a second, so the outage lands inside it (its
  // transaction is rolled back by Postgres and retried).
  std::ofstream(stack.config_file().parent_path() / "migrations/post/20261121_03_slow.sql")
      << "SELECT pg_sleep(1);\nALTER TABLE orders ADD COLUMN archived boolean;\n";
  // A held request keeps the drain open across the outage.
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=5000", 30s); });
  REQUIRE(eventually([&] {
    return stack.lb(0).stat_field("old-1", "scur") == "1" || stack.lb(0).stat_field("old-2", "scur") == "1";
  }, 3s));
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  UpSampler sampler(stack);
  auto lbctl = stack.start_lbctl({"cutover", "--yes"}, logs / "cutover.txt");
  REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find(where) != std::string::npos; }, 60s));
  const auto stopped = std::chrono::steady_clock::now();
  stack.postgres().stop();
  std::this_thread::sleep_for(3s);
  stack.postgres().start();
  const int code = lbctl->wait(120s);
  const auto ended = std::chrono::steady_clock::now();
  const auto lowest_up = sampler.stop();
  const auto out = read_file(logs / "cutover.txt");
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("the state database is out of reach") != std::string::npos);
  CHECK(out.find("the state database is back after") != std::string::npos);
  CHECK(out.find("could not") == std::string::npos);  // nothing went unjournaled
  const auto f1 = stop_load(load1);
  const auto f2 = stop_load(load2);
  CHECK(f1.requests > 100);
  CHECK(f2.requests > 100);
  CHECK(f1.failed + f2.failed == 0);
  CHECK(held.get().status == 200);
  CHECK(lowest_up >= 2);
  CHECK(stack.fleet_view() == k_done_view);
  CHECK_FALSE(stack.server_running("old-1"));
  CHECK_FALSE(stack.server_running("old-2"));
  CHECK(stack.orders_has_column("total_cents"));
  CHECK(stack.orders_has_column("archived"));
  CHECK_FALSE(stack.orders_has_column("legacy_total"));
  const auto status = nlohmann::json::parse(stack.lbctl({"status", "--json"}).out);
  CHECK(status["cutover"]["status"] == "completed");
  WARN("recovered " << std::chrono::duration_cast<std::chrono::milliseconds>(ended - stopped).count()
                    << " ms after Postgres stopped (3000 ms down)");
}

TEST_CASE("Postgres stopped for longer than state.reconnect_timeout: exit 3, the LBs untouched since, resume finishes",
          "[chaos][outage]") {
  Stack stack;
  TempDir logs;
  // A request long enough to hold the cutover in its watch however slowly a
  // loaded machine reaches it (at 4 s, it once ended first: the watch passed
  // and the detach ran while Postgres stopped, under a lease still held).
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=12000", 40s); });
  REQUIRE(eventually([&] {
    return stack.lb(0).stat_field("old-1", "scur") == "1" || stack.lb(0).stat_field("old-2", "scur") == "1";
  }, 3s));
  // A config with a short reconnect_timeout (the stack's own, plus one key).
  auto text = read_file(stack.config_file());
  const auto state = text.find("state:\n");
  REQUIRE(state != std::string::npos);
  text.insert(state + 7, "  reconnect_timeout: 3s\n");
  std::ofstream(stack.config_file()) << text;
  auto lbctl = stack.start_lbctl({"cutover", "--yes"}, logs / "cutover.txt");
  REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find("watch: watch started") != std::string::npos; }, 60s));
  stack.postgres().stop();
  const auto view_at_stop = stack.fleet_view();
  const int code = lbctl->wait(60s);
  const auto out = read_file(logs / "cutover.txt");
  INFO(out);
  CHECK(code == 3);
  CHECK(out.find("state.reconnect_timeout (3s") != std::string::npos);
  // Nothing changed on the LBs after the stop (the held request has ended meanwhile: the drain would have moved on).
  held.get();
  CHECK(stack.fleet_view() == view_at_stop);
  stack.postgres().start();
  const auto resumed = stack.lbctl({"resume"});
  INFO(resumed.out);
  CHECK(resumed.exit_code == 0);
  CHECK(stack.fleet_view() == k_done_view);
}
