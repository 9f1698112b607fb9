// Reload-proof cutovers, in memory: every change persisted to each LB's
// haproxy.cfg (every other byte kept), and reloads (with the file, or
// without persistence) noticed mid-cutover and repaired.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {


// Runs the cutover while `when` is polled every 50 ms of simulated time;
// `act` runs once, the first time `when` holds.
CutoverOutcome cutover_with(CutoverRig& rig, std::function<bool()> when, std::function<void()> act) {
  bool done = false;
  bool acted = false;
  auto watcher = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!done) {
      if (!acted && when()) {
        acted = true;
        act();
      }
      co_await rig.sim.clock.sleep_for(50ms);
    }
    co_return CutoverOutcome{};
  };
  auto run = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await run_cutover(rig.deps(), {});
    done = true;
    co_return outcome;
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> both;
  both.push_back(run());
  both.push_back(watcher());
  auto outcomes = rig.sim.run(when_all(std::move(both)));
  REQUIRE(acted);
  return outcomes[0];
}

bool saw_reload(const Recorder& recorder) { return recorder.saw("reloaded"); }

}  // namespace

TEST_CASE("a completed cutover leaves each file naming the new pool, every other byte kept", "[lbctl][reload]") {
  CutoverRig rig;
  rig.persist_all();
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  const std::string expected = CutoverRig::cfg_head +
                               "    server v2-1 127.0.0.1:9100 id 1000 check inter 1s fall 2 rise 2\n"
                               "    server v2-2 127.0.0.1:9101 id 1001 check inter 1s fall 2 rise 2\n" +
                               CutoverRig::cfg_tail;
  CHECK(rig.store->text(CutoverRig::cfg_path(0)) == expected);
  CHECK(rig.store->text(CutoverRig::cfg_path(1)) == expected);
  // A reload (or restart) of each LB now comes back to the same servers.
  for (std::size_t i = 0; i < rig.haproxies.size(); ++i) rig.haproxies[i]->reload(rig.store->text(CutoverRig::cfg_path(i)));
  rig.sim.clock.advance_by(5s);
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
}

TEST_CASE("a rolled-back cutover leaves the file byte for byte as it was", "[lbctl][reload]") {
  CutoverRig rig;
  rig.persist_all();
  rig.prober.script("127.0.0.1:9101", "/health-check.html", FakeReply::refused());
  const auto outcome = rig.cutover();
  REQUIRE(outcome.outcome == Outcome::failed);
  CHECK(rig.store->text(CutoverRig::cfg_path(0)) == CutoverRig::cfg_text(2));
  CHECK(rig.store->text(CutoverRig::cfg_path(1)) == CutoverRig::cfg_text(2));
  CHECK_FALSE(rig.store->writes().empty());  // the new servers were there for a while
  for (std::size_t i = 0; i < rig.haproxies.size(); ++i) rig.haproxies[i]->reload(rig.store->text(CutoverRig::cfg_path(i)));
  rig.sim.clock.advance_by(5s);
  CHECK(rig.fleet_view() == Strings{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"});
}

TEST_CASE("each batch writes the file once, and a batch that changes nothing writes nothing", "[lbctl][reload]") {
  CutoverRig rig;
  rig.persist_all();
  REQUIRE(rig.cutover().outcome == Outcome::done);
  // Per LB: added (disabled), checks on (no change in the file), ready,
  // old-1 MAINT+deleted, old-2 MAINT+deleted: 3 writes.
  const auto& writes = rig.store->writes();
  CHECK(std::count(writes.begin(), writes.end(), CutoverRig::cfg_path(0)) == 3);
  CHECK(std::count(writes.begin(), writes.end(), CutoverRig::cfg_path(1)) == 3);
}

TEST_CASE("a reload during attach brings the new servers back from the file and the cutover completes", "[lbctl][reload]") {
  CutoverRig rig;
  rig.persist_all();
  auto outcome = cutover_with(
      rig, [&] { return rig.haproxies[1]->status("v2-1") == "MAINT"; },
      [&] { rig.haproxies[1]->reload(rig.store->text(CutoverRig::cfg_path(1))); });
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  CHECK(saw_reload(rig.recorder));
  // Born `disabled` in the file, their checks pause in MAINT: DRAIN lets them
  // run without traffic, then ready.
  const auto mutations = rig.haproxies[1]->mutations();
  CHECK(std::find(mutations.begin(), mutations.end(), "set server app/v2-1 state drain") != mutations.end());
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
}

TEST_CASE("a reload without persistence during the drain puts the new pool back before going on", "[lbctl][reload]") {
  CutoverRig rig;
  rig.haproxies[1]->set_sessions("old-1", 2);
  auto outcome = cutover_with(
      rig, [&] { return rig.haproxies[1]->status("old-1") == "NOLB"; },
      [&] {
        rig.haproxies[1]->reload_original();  // the new servers gone, the old ones back
      });
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  CHECK(saw_reload(rig.recorder));
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
  // The new servers were added on lb2 twice: once, then again after the reload.
  const auto mutations = rig.haproxies[1]->mutations();
  CHECK(std::count(mutations.begin(), mutations.end(),
                   "add server app/v2-1 127.0.0.1:9100 id 1000 check inter 1s fall 2 rise 2") == 2);
}

TEST_CASE("a reload after detach without persistence deletes the old servers it brought back", "[lbctl][reload]") {
  CutoverRig rig;
  rig.config.terminate_delay = 10s;
  auto outcome = cutover_with(
      rig, [&] { return rig.haproxies[0]->server_names() == Strings{"v2-1", "v2-2"} && rig.recorder.saw("detached"); },
      [&] { rig.haproxies[0]->reload_original(); });
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  CHECK(saw_reload(rig.recorder));
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
}

TEST_CASE("a check that refuses the new file rolls the cutover back and the file stays as it was", "[lbctl][reload]") {
  CutoverRig rig;
  rig.persist_all();
  rig.store->refuse_when("v2-1");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("[ALERT] bad line") != std::string::npos);
  CHECK(rig.store->text(CutoverRig::cfg_path(0)) == CutoverRig::cfg_text(2));
  CHECK(rig.store->writes().empty());
  CHECK(rig.fleet_view() == Strings{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"});
}

TEST_CASE("a file without the backend stops the cutover at preflight, exit 2, nothing sent", "[lbctl][reload]") {
  CutoverRig rig;
  rig.persist_all();
  rig.store->put(CutoverRig::cfg_path(1), "global\n    maxconn 100\nbackend web\n    server a 127.0.0.1:1\n");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::usage);
  CHECK(outcome.message.find("lb2") != std::string::npos);
  CHECK(outcome.message.find("/etc/haproxy/lb2.cfg") != std::string::npos);
  CHECK(outcome.message.find("no `backend app` or `listen app` section") != std::string::npos);
  CHECK(rig.haproxies[0]->mutations().empty());
  CHECK(rig.haproxies[1]->mutations().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("a file that holds other servers than the live LB is not overwritten: exit 2", "[lbctl][reload]") {
  CutoverRig rig;
  rig.persist_all();
  // An operator added a server to the file and has not reloaded yet.
  rig.store->put(CutoverRig::cfg_path(0), CutoverRig::cfg_text(3));
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::usage);
  CHECK(outcome.message.find("/etc/haproxy/lb1.cfg says old-3 (line 15), which the LB does not have") != std::string::npos);
  CHECK(rig.store->text(CutoverRig::cfg_path(0)) == CutoverRig::cfg_text(3));
  CHECK(rig.haproxies[0]->mutations().empty());
}

TEST_CASE("resume after a crash re-ensures what a reload meanwhile undid", "[lbctl][reload]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  rig.cutover_until_killed("watch");
  rig.haproxies[0]->reload_original();  // while nobody watched
  rig.haproxies[0]->set_sessions("old-1", 0);
  const auto outcome = rig.resume();
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
}
