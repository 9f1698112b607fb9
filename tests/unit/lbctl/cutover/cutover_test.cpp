// The whole cutover, in memory: what it asks of every LB, the provider and the
// journal, in what order, and what it leaves behind.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST_CASE("a cutover replaces the old pool on every LB in the safe order and ends with exit 0", "[lbctl][cutover]") {
  CutoverRig rig;
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  for (auto& haproxy : rig.haproxies) {
    CHECK(haproxy->mutations() == Strings{
                                      "add server app/v2-1 127.0.0.1:9100 id 1000 check inter 1s fall 2 rise 2",
                                      "add server app/v2-2 127.0.0.1:9101 id 1001 check inter 1s fall 2 rise 2",
                                      "enable health app/v2-1",
                                      "enable health app/v2-2",
                                      "set server app/v2-1 state ready",
                                      "set server app/v2-2 state ready",
                                      "set server app/old-1 state maint",
                                      "del server app/old-1",
                                      "set server app/old-2 state maint",
                                      "del server app/old-2",
                                  });
  }
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
  CHECK(rig.provider.calls() == Strings{"freeze_scaling", "clone v2-1,v2-2", "remove_health_file old-1",
                                        "remove_health_file old-2", "unfreeze_scaling", "terminate old-1",
                                        "terminate old-2"});
  CHECK(rig.provider.running_servers() == Strings{"v2-1", "v2-2"});
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::completed);
  CHECK_FALSE(rig.journal.held_service().has_value());  // the lock is released
  CHECK(rig.recorder.saw("completed"));
}

TEST_CASE("the steps are journaled in order before they run", "[lbctl][cutover]") {
  CutoverRig rig;
  REQUIRE(rig.cutover().outcome == Outcome::done);
  Strings steps;
  for (const auto& call : rig.journal.calls_starting("save")) {
    const auto step = call.substr(call.rfind(' ') + 1);
    if (steps.empty() || steps.back() != step) steps.push_back(step);
  }
  CHECK(steps == Strings{"preflight", "backup", "pre_migrate", "freeze", "clone", "verify", "attach", "drain",
                         "watch", "detach", "post_migrate", "unfreeze", "terminate"});
}

TEST_CASE("the new servers are verified directly on both paths before they take traffic", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.config.health.database_path = "/health/db";
  REQUIRE(rig.cutover().outcome == Outcome::done);
  CHECK(rig.prober.count("127.0.0.1:9100", "/health-check.html") == 2);
  CHECK(rig.prober.count("127.0.0.1:9100", "/health/db") == 2);
  CHECK(rig.prober.count("127.0.0.1:9101", "/health/db") == 2);
  // No server was made ready before its direct checks passed.
  const auto* verified = rig.recorder.first("verify", "step_done");
  const auto* ready = rig.recorder.first("attach", "haproxy");
  REQUIRE(verified);
  REQUIRE(ready);
  CHECK(verified->time <= ready->time);
}

TEST_CASE("the number of UP servers on each LB never falls below the old pool's size", "[lbctl][cutover]") {
  CutoverRig rig(2, 3);
  rig.haproxies[0]->set_sessions("old-2", 4);
  std::size_t lowest = 99;
  std::size_t samples = 0;
  bool done = false;
  auto monitor = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!done) {
      for (auto& haproxy : rig.haproxies) {
        std::size_t up = 0;
        for (const auto& name : haproxy->server_names()) up += haproxy->status(name).starts_with("UP");
        lowest = std::min(lowest, up);
      }
      ++samples;
      co_await rig.sim.clock.sleep_for(50ms);
    }
    co_return CutoverOutcome{};
  };
  auto sessions_end = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await rig.sim.clock.sleep_for(20s);
    rig.haproxies[0]->set_sessions("old-2", 0);
    co_return CutoverOutcome{};
  };
  auto run = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await run_cutover(rig.deps(), {});
    done = true;
    co_return outcome;
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> tasks;
  tasks.push_back(run());
  tasks.push_back(monitor());
  tasks.push_back(sessions_end());
  auto results = rig.sim.run(when_all(std::move(tasks)));
  REQUIRE(results[0].outcome == Outcome::done);
  CHECK(samples > 100);
  CHECK(lowest >= 3);
}

TEST_CASE("the drain waits for the last session and the detach starts within one poll of it", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.haproxies[1]->set_sessions("old-1", 2);
  Clock::TimePoint sessions_ended{};
  auto end_sessions = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await rig.sim.clock.sleep_for(std::chrono::milliseconds(47'300));
    rig.haproxies[1]->set_sessions("old-1", 0);
    sessions_ended = rig.sim.clock.now();
    co_return CutoverOutcome{};
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> tasks;
  tasks.push_back(run_cutover(rig.deps(), {}));
  tasks.push_back(end_sessions());
  auto results = rig.sim.run(when_all(std::move(tasks)));
  REQUIRE(results[0].outcome == Outcome::done);
  const auto* detach = rig.recorder.first("detach", "step_started");
  REQUIRE(detach);
  const auto ended_wall = rig.sim.clock.wall_now() - (rig.sim.clock.now() - sessions_ended);
  CHECK(detach->time >= ended_wall);
  CHECK(detach->time - ended_wall <= rig.config.drain.poll);
  // The drain reported its progress meanwhile.
  CHECK(rig.recorder.saw("drain_progress"));
}

TEST_CASE("drain by HAProxy state sets DRAIN instead of touching health files", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.config.drain.method = DrainConfig::Method::haproxy;
  REQUIRE(rig.cutover().outcome == Outcome::done);
  const auto mutations = rig.haproxies[0]->mutations();
  CHECK(std::find(mutations.begin(), mutations.end(), "set server app/old-1 state drain") != mutations.end());
  const auto calls = rig.provider.calls();
  CHECK(std::none_of(calls.begin(), calls.end(), [](const std::string& c) { return c.starts_with("remove_health_file"); }));
}

TEST_CASE("migrations run around the LB work: backup, pre before the clone, post after the detach", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.enable_migrations({"20261121_01_add_total.sql"}, {"20261121_02_drop_legacy.sql"});
  const auto outcome = rig.cutover();
  REQUIRE(outcome.outcome == Outcome::done);
  CHECK(rig.backup.calls == Strings{"backup shop cutover=" + std::to_string(outcome.cutover_id)});
  CHECK(rig.migrator.applied(db::Phase::pre) == Strings{"20261121_01_add_total.sql"});
  CHECK(rig.migrator.applied(db::Phase::post) == Strings{"20261121_02_drop_legacy.sql"});
  const auto* pre = rig.recorder.first("pre_migrate", "migrated");
  const auto* clone = rig.recorder.first("clone", "cloned");
  const auto* detached = rig.recorder.first("detach", "detached");
  const auto* post = rig.recorder.first("post_migrate", "migrated");
  REQUIRE((pre && clone && detached && post));
  CHECK(pre->time <= clone->time);
  CHECK(detached->time <= post->time);
  CHECK(rig.journal.rows().at(outcome.cutover_id).progress_json.find("/var/backups/lbctl/shop.dump") != std::string::npos);
}

TEST_CASE("with --no-backup the backup is skipped and the run says so", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.enable_migrations({"20261121_01_add_total.sql"}, {});
  CutoverOptions options;
  options.no_backup = true;
  REQUIRE(rig.cutover(options).outcome == Outcome::done);
  CHECK(rig.backup.calls.empty());
  const auto* skipped = rig.recorder.first("backup", "skipped");
  REQUIRE(skipped);
  CHECK(skipped->text.find("WITHOUT a backup") != std::string::npos);
}

TEST_CASE("terminate waits terminate.delay after the detach", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.config.terminate_delay = 10min;
  REQUIRE(rig.cutover().outcome == Outcome::done);
  const auto* unfrozen = rig.recorder.first("unfreeze", "unfrozen");
  const auto* terminated = rig.recorder.first("terminate", "terminated");
  REQUIRE((unfrozen && terminated));
  CHECK(terminated->time - unfrozen->time >= 10min);
}

TEST_CASE("hooks run at their points with the cutover's facts in the environment", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.config.hooks.before_attach = HookCommand{{"stop-workers", "--now"}, 5s};
  rig.config.hooks.after_cutover = HookCommand{{"warm-caches"}, 5s};
  const auto outcome = rig.cutover();
  REQUIRE(outcome.outcome == Outcome::done);
  REQUIRE(rig.processes.programs() == Strings{"stop-workers", "warm-caches"});
  CHECK(rig.processes.env(0, "LBCTL_SERVICE") == "shop");
  CHECK(rig.processes.env(0, "LBCTL_CUTOVER_ID") == std::to_string(outcome.cutover_id));
  CHECK(rig.processes.env(0, "LBCTL_STEP") == "attach");
  CHECK(rig.processes.env(0, "LBCTL_OLD_SERVERS") == "old-1=127.0.0.1:9001,old-2=127.0.0.1:9002");
  CHECK(rig.processes.env(0, "LBCTL_NEW_SERVERS") == "v2-1=127.0.0.1:9100,v2-2=127.0.0.1:9101");
  CHECK(rig.processes.runs[0].argv == Strings{"stop-workers", "--now"});
}

TEST_CASE("new server ids stay above every id the service used before", "[lbctl][cutover]") {
  CutoverRig rig;
  REQUIRE(rig.cutover().outcome == Outcome::done);
  // The next release replaces v2-* with v3-*: ids 1002 and 1003, never 1000 again.
  rig.config.new_pool.name_prefix = "v3-";
  for (auto& h : rig.haproxies) h->clear_log();
  REQUIRE(rig.cutover().outcome == Outcome::done);
  const auto mutations = rig.haproxies[0]->mutations();
  REQUIRE(mutations.size() > 2);
  CHECK(mutations[0].find("id 1002") != std::string::npos);
  CHECK(mutations[1].find("id 1003") != std::string::npos);
}
