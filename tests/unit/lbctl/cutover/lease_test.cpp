// One writer, always: the owner token fences a runner that was taken over,
// the lease stops a runner whose heartbeats are not confirmed from sending
// anything to an LB, and a take-over waits for a fresh heartbeat to age past
// the lease. On the manual clock.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "lbctl/cutover/abort.hpp"
#include "lbctl/cutover/cutover_run.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

using Task = boost::asio::awaitable<CutoverOutcome>;

CutoverOutcome run_with(CutoverRig& rig, Task disturbance) {
  std::vector<Task> tasks;
  tasks.push_back(run_cutover(rig.deps(), {}));
  tasks.push_back(std::move(disturbance));
  return rig.sim.run(when_all(std::move(tasks)))[0];
}

// Commands that change an LB (anything but `show ...`), on every LB.
std::size_t writes(const CutoverRig& rig) {
  std::size_t n = 0;
  for (const auto& h : rig.haproxies) {
    for (const auto& command : h->log()) {
      if (!command.starts_with("show ")) ++n;
    }
  }
  return n;
}

// Built outside coroutines: GCC 12 miscompiles braced lists inside them.
std::vector<std::string> old_1() { return {"old-1"}; }

}  // namespace

TEST_CASE("a runner taken over by another lbctl has its next write refused and stops, changing nothing more",
          "[lbctl][cutover][lease]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  std::size_t writes_at_take_over = 0;
  auto take_over = [&rig, &writes_at_take_over]() -> Task {
    while (!rig.recorder.first("watch", "step_started")) co_await rig.sim.clock.sleep_for(100ms);
    rig.journal.taken_over(1);
    writes_at_take_over = writes(rig);
    co_await rig.sim.clock.sleep_for(2s);
    rig.haproxies[0]->set_sessions("old-1", 0);
    co_return CutoverOutcome{};
  };
  const auto outcome = run_with(rig, take_over());
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::needs_operator);
  CHECK(outcome.message.find("no longer owns it") != std::string::npos);
  // The watch ended at the refused heartbeat: no detach, no write to any LB.
  CHECK_FALSE(rig.recorder.first("detach", "step_started"));
  CHECK(writes(rig) == writes_at_take_over);
  // The journal still says what the new owner wrote (the stale runner's save was refused).
  CHECK(rig.journal.rows().at(1).step == "watch");
}

TEST_CASE("no batch goes to an LB once the lease ran out without a confirmed heartbeat", "[lbctl][cutover][lease]") {
  CutoverRig rig;
  rig.config.state_lease = 5s;
  rig.config.state_partition_timeout = 2s;
  rig.config.state_reconnect_timeout = 20s;
  auto row = rig.journal.begin({"shop", "test-host", 4242, "blue_green", "{}", "watch", ""});
  REQUIRE(row);
  CutoverRun run(rig.deps(), {}, *row);
  rig.haproxies[0]->set_sessions("old-1", 1);  // something to shut down
  // Every heartbeat from now on times out on the server: answered, never confirmed.
  rig.journal.stall_heartbeats(true);
  rig.sim.run(rig.sim.clock.sleep_for(6s));
  CHECK_FALSE(run.session().lease_held());
  const auto before = writes(rig);
  const auto started = rig.sim.clock.now();
  const auto sent = rig.sim.run(rig.fleet->at(0).shutdown_sessions({"old-1"}));
  REQUIRE_FALSE(sent);
  INFO(sent.error().message);
  CHECK(sent.error().message.find("no heartbeat was confirmed") != std::string::npos);
  CHECK(writes(rig) == before);  // nothing went out while it waited
  CHECK(rig.sim.clock.now() - started >= 15s);  // lease + reconnect_timeout from the last confirmation
  CHECK(rig.journal.calls_starting("heartbeat").size() > 10);  // it kept asking
}

TEST_CASE("a batch held by an expired lease goes out once a heartbeat is confirmed again", "[lbctl][cutover][lease]") {
  CutoverRig rig;
  rig.config.state_lease = 5s;
  rig.config.state_partition_timeout = 2s;
  auto row = rig.journal.begin({"shop", "test-host", 4242, "blue_green", "{}", "watch", ""});
  REQUIRE(row);
  CutoverRun run(rig.deps(), {}, *row);
  rig.haproxies[0]->set_sessions("old-1", 1);
  rig.journal.stall_heartbeats(true);
  rig.sim.run(rig.sim.clock.sleep_for(6s));
  auto unstall = [&rig]() -> Task {
    co_await rig.sim.clock.sleep_for(3s);
    rig.journal.stall_heartbeats(false);
    co_return CutoverOutcome{};
  };
  auto send = [&rig]() -> Task {
    auto sent = co_await rig.fleet->at(0).shutdown_sessions(old_1());
    co_return CutoverOutcome{sent ? Outcome::done : Outcome::failed, 0, sent ? "" : sent.error().message};
  };
  const auto started = rig.sim.clock.now();
  std::vector<Task> both;
  both.push_back(send());
  both.push_back(unstall());
  const auto outcome = rig.sim.run(when_all(std::move(both)))[0];
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  CHECK(rig.sim.clock.now() - started >= 3s);
  CHECK(run.session().lease_held());
}

TEST_CASE("a take-over waits until the runner's fresh heartbeat is older than the lease", "[lbctl][cutover][lease]") {
  CutoverRig rig;
  rig.cutover_until_killed("watch");
  // The dead runner beat at its last step: resume waits out the 15 s lease first.
  const auto killed_at = rig.sim.clock.wall_now();
  CHECK(rig.journal.lease_left("shop").value() > 10s);
  CHECK_FALSE(rig.journal.adopt("shop", "other-host", 1));  // refused while the lease holds
  const auto outcome = rig.resume();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  const auto* waiting = rig.recorder.first("preflight", "waiting");
  REQUIRE(waiting != nullptr);
  CHECK(waiting->text.find("for the lease of service shop's cutover to run out") != std::string::npos);
  const auto* resumed = rig.recorder.first("watch", "resume");
  REQUIRE(resumed != nullptr);
  CHECK(resumed->time - killed_at >= 15s);
}

TEST_CASE("a runner that ends and lets go gives its cutover up: a resume need not wait for the lease",
          "[lbctl][cutover][lease]") {
  CutoverRig rig;
  rig.enable_migrations({}, {"20261121_02_drop_legacy.sql"});
  rig.migrator.fail_next_apply(db::Phase::post, Error{ErrorKind::refused, "lock timeout"});
  REQUIRE(rig.cutover().outcome == Outcome::needs_operator);
  CHECK(rig.journal.rows().at(1).owner_token.empty());
  CHECK(rig.journal.lease_left("shop").value() == 0ms);
  const auto before = rig.sim.clock.now();
  CHECK(rig.resume().outcome == Outcome::done);
  CHECK_FALSE(rig.recorder.first("preflight", "waiting"));
  CHECK(rig.sim.clock.now() - before < 15s);
}

TEST_CASE("a resume whose journaled step is no longer in the flow is refused, exit 2, and abort still rolls it back",
          "[lbctl][cutover][lease]") {
  CutoverRig rig;
  rig.config.stages = {StageConfig{}};
  rig.config.stages[0].weight_percent = 50;
  rig.config.stages[0].hold = 10s;
  rig.cutover_until_killed("stages");
  rig.config.stages.clear();  // the config lost its stages:
  const auto refused = rig.resume();
  INFO(refused.message);
  CHECK(refused.outcome == Outcome::usage);
  CHECK(refused.message.find("stopped at step stages, which this config's flow does not have: the config has no "
                             "stages: any more") != std::string::npos);
  CHECK(refused.message.find("nothing changed") != std::string::npos);
  CHECK(rig.journal.calls_starting("adopt").empty());
  const auto aborted = rig.abort();
  INFO(aborted.message);
  CHECK(aborted.outcome == Outcome::failed);  // rolled back
  CHECK(rig.status_of(1) == db::CutoverStatus::rolled_back);
  for (const auto& line : rig.fleet_view()) CHECK(line.find("v2-") == std::string::npos);
}

TEST_CASE("a cutover that stops before changing any LB is journaled as stopped, not rolled back",
          "[lbctl][cutover][lease]") {
  CutoverRig rig;
  rig.config.min_healthy = 5;  // two old servers: preflight refuses
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome != Outcome::done);
  REQUIRE(outcome.cutover_id != 0);
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::stopped);
  CHECK(db::is_finished(db::CutoverStatus::stopped));
  // A new cutover may start at once.
  rig.config.min_healthy = 1;
  CHECK(rig.cutover().outcome == Outcome::done);
}
