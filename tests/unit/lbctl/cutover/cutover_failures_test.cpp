// A cutover that cannot go on: what it refuses before any change, what it
// rolls back, and where it stops for an operator.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {


}  // namespace

TEST_CASE("a new server that fails its check rolls the cutover back by itself", "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  rig.prober.script("127.0.0.1:9101", "/health-check.html", FakeReply::refused());
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("v2-2: connection refused") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
  CHECK_FALSE(rig.provider.frozen());
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::rolled_back);
  CHECK(rig.recorder.saw("rolled_back"));
}

TEST_CASE("an unreachable LB before the start changes nothing and exits 5", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.haproxies[1]->set_reachable(false);
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::unreachable);
  CHECK(outcome.message.find("lb2") != std::string::npos);
  CHECK(rig.haproxies[0]->mutations().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("a second cutover while one holds the lock exits 4 naming the holder", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.journal.hold_lock("shop");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::locked);
  CHECK_FALSE(outcome.message.empty());
  CHECK(rig.haproxies[0]->log().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("new names that collide with servers in a backend are a config error found before any change", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.config.new_pool.name_prefix = "old-";
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::usage);
  CHECK(outcome.message.find("name_prefix") != std::string::npos);
  CHECK(rig.haproxies[0]->mutations().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("a cutover that would break min_healthy refuses to start", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.config.min_healthy = 3;
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome != Outcome::done);
  CHECK(outcome.message.find("min_healthy 3") != std::string::npos);
  CHECK(rig.haproxies[0]->mutations().empty());
}

TEST_CASE("a failed pre-migration stops before any change to the load balancers", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.enable_migrations({"20261121_01_add_total.sql"}, {});
  rig.migrator.fail_next_apply(db::Phase::pre, Error{ErrorKind::refused, "pre/20261121_01_add_total.sql line 2: syntax error"});
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("syntax error") != std::string::npos);
  CHECK(rig.haproxies[0]->mutations().empty());
  CHECK(rig.provider.calls().empty());
  // Nothing was rolled back: it stopped before any change.
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::stopped);
}

TEST_CASE("an old server that never turns NOLB stops the cutover naming the LB and the likely cause", "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  // lb2 checks another path: removing the file changes nothing there.
  rig.provider.on_health_file([&rig](const std::string& server, bool present) {
    rig.haproxies[0]->set_app(server, present ? AppHealth::healthy : AppHealth::not_found);
  });
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("lb2: old-1 (UP") != std::string::npos);
  CHECK(outcome.message.find("http-check disable-on-404") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.has_health_file("old-1"));
  CHECK(rig.provider.has_health_file("old-2"));
}

TEST_CASE("old servers checked far less often than the new pool still turn NOLB in time", "[lbctl][cutover]") {
  CutoverRig rig;  // the new pool: check inter 1s fall 2
  for (auto& h : rig.haproxies) {
    for (const auto* name : {"old-1", "old-2"}) h->set_check_inter(name, 20'000);
  }
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  const auto* removed = rig.recorder.first("drain", "health_files_removed");
  const auto* drained = rig.recorder.first("watch", "drained");
  REQUIRE(removed);
  REQUIRE(drained);
  CHECK(drained->time - removed->time > 6s);  // longer than fall x inter of the new pool's checks
}

TEST_CASE("at the drain timeout, on_timeout abort rolls back", "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  rig.config.drain.timeout = 2min;
  rig.haproxies[0]->set_sessions("old-1", 5);
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("drain.timeout 2m passed with 5 sessions left (old-1 on lb1: 5)") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.haproxies[0]->server("old-1")->scur == 5);  // nobody's session was cut
}

TEST_CASE("at the drain timeout, on_timeout force cuts the sessions, reports them and finishes", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.config.drain.timeout = 2min;
  rig.config.drain.on_timeout = DrainConfig::OnTimeout::force;
  rig.haproxies[1]->set_sessions("old-2", 3);
  const auto outcome = rig.cutover();
  REQUIRE(outcome.outcome == Outcome::done);
  const auto* cut = rig.recorder.first("watch", "sessions_cut");
  REQUIRE(cut);
  CHECK(cut->text.find("cut 3 sessions (old-2 on lb2: 3)") != std::string::npos);
  CHECK(cut->details["sessions"] == 3);
  const auto mutations = rig.haproxies[1]->mutations();
  CHECK(std::find(mutations.begin(), mutations.end(), "shutdown sessions server app/old-2") != mutations.end());
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
}

TEST_CASE("lbctl abort during the drain rolls back within one poll", "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  Clock::TimePoint asked{};
  auto abort_later = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!rig.recorder.first("watch", "step_started")) co_await rig.sim.clock.sleep_for(100ms);
    co_await rig.sim.clock.sleep_for(5s);
    REQUIRE(rig.journal.request_abort("shop").has_value());
    asked = rig.sim.clock.now();
    co_return CutoverOutcome{};
  };
  const auto cutover = rig.cutover_beside(abort_later());
  CHECK(cutover.outcome == Outcome::failed);
  CHECK(cutover.message.find("aborted") != std::string::npos);
  const auto* rolling = rig.recorder.first("rollback", "rolling_back");
  REQUIRE(rolling);
  const auto asked_wall = rig.sim.clock.wall_now() - (rig.sim.clock.now() - asked);
  CHECK(rolling->time - asked_wall <= rig.config.drain.poll);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
  CHECK(rig.haproxies[0]->server("old-1")->scur == 1);  // the old session kept going
}

TEST_CASE("a failed post-migration stops for an operator with the old servers detached, not terminated", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.enable_migrations({}, {"20261121_02_drop_legacy.sql"});
  rig.migrator.fail_next_apply(db::Phase::post, Error{ErrorKind::refused, "post/20261121_02_drop_legacy.sql: lock timeout"});
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::needs_operator);
  CHECK(outcome.message.find("lbctl resume") != std::string::npos);
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::needs_operator);
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
  CHECK(rig.provider.running("old-1"));
  CHECK(rig.provider.running("old-2"));
  // The operator fixes the database and resumes: the cutover finishes.
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::done);
  CHECK(rig.migrator.applied(db::Phase::post) == Strings{"20261121_02_drop_legacy.sql"});
  CHECK_FALSE(rig.provider.running("old-1"));
}

TEST_CASE("after a failed post-migration, lbctl abort puts the old pool back", "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  rig.enable_migrations({}, {"20261121_02_drop_legacy.sql"});
  rig.migrator.fail_next_apply(db::Phase::post, Error{ErrorKind::refused, "lock timeout"});
  REQUIRE(rig.cutover().outcome == Outcome::needs_operator);
  const auto aborted = rig.abort();
  INFO(aborted.message);
  CHECK(aborted.outcome == Outcome::failed);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
}

TEST_CASE("a failing hook rolls the cutover back where that is still possible", "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  rig.config.hooks.before_drain = HookCommand{{"check-queues"}, 5s};
  ProcessResult failed;
  failed.exit_code = 3;
  failed.err = "queue not empty\n";
  rig.processes.script("check-queues", failed);
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("hook before_drain (check-queues) exited 3: queue not empty") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
}

TEST_CASE("a stage whose new pool answers 5xx over the limit rolls back, weights restored", "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  rig.config.stages = {{10, 2min, 0.01}, {100, 0ms, std::nullopt}};
  auto errors = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!rig.recorder.first("stages", "stage")) co_await rig.sim.clock.sleep_for(100ms);
    co_await rig.sim.clock.sleep_for(3s);
    rig.haproxies[0]->add_responses("v2-1", 100, 40);
    co_return CutoverOutcome{};
  };
  const auto cutover = rig.cutover_beside(errors());
  CHECK(cutover.outcome == Outcome::failed);
  CHECK(cutover.message.find("40 of 100 responses with 5xx") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.haproxies[0]->server("old-1")->weight == 1);
  CHECK(rig.haproxies[1]->server("old-2")->weight == 1);
}

TEST_CASE("stages shift the weight step by step before the drain", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.config.stages = {{10, 1min, 0.01}, {100, 0ms, std::nullopt}};
  REQUIRE(rig.cutover().outcome == Outcome::done);
  const auto mutations = rig.haproxies[0]->mutations();
  // 10%: new 1 x 2 servers against old 9 x 2 (scaled into 1-256).
  CHECK(std::find(mutations.begin(), mutations.end(), "set weight app/v2-1 28") != mutations.end());
  CHECK(std::find(mutations.begin(), mutations.end(), "set weight app/old-1 256") != mutations.end());
  CHECK(std::find(mutations.begin(), mutations.end(), "set weight app/old-1 0") != mutations.end());
  const auto* first = rig.recorder.first("stages", "stage_passed");
  REQUIRE(first);
}

namespace {

// Takes v2-2 down on lb1 once the drain starts; brings it back after
// `back_after` (never when zero).
boost::asio::awaitable<CutoverOutcome> flap_new_server(CutoverRig& rig, std::chrono::milliseconds back_after) {
  while (!rig.recorder.first("drain", "health_files_removed")) co_await rig.sim.clock.sleep_for(50ms);
  rig.haproxies[0]->set_app("v2-2", AppHealth::down);
  if (back_after.count() > 0) {
    co_await rig.sim.clock.sleep_for(back_after);
    rig.haproxies[0]->set_app("v2-2", AppHealth::healthy);
  }
  co_return CutoverOutcome{};
}

}  // namespace

TEST_CASE("a new server that flaps during the drain is waited for, not rolled back", "[lbctl][cutover]") {
  CutoverRig rig;
  const auto cutover = rig.cutover_beside(flap_new_server(rig, 4s));
  INFO(cutover.message);
  CHECK(cutover.outcome == Outcome::done);
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
}

TEST_CASE("a new server that stays down keeps the old servers attached and rolls back", "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  const auto cutover = rig.cutover_beside(flap_new_server(rig, 0ms));
  CHECK(cutover.outcome == Outcome::failed);
  CHECK(cutover.message.find("not detaching the old servers: a new server is not UP") != std::string::npos);
  CHECK(cutover.message.find("lb1: v2-2 (DOWN") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
}

TEST_CASE("a provider that cannot work is found in preflight: exit 2 and nothing changed", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.provider.fail_check(Error{ErrorKind::invalid, "provider.command: 'lbctl-app' is not an executable program on PATH"});
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::usage);
  CHECK(outcome.message.find("'lbctl-app' is not an executable program") != std::string::npos);
  CHECK(rig.haproxies[0]->mutations().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("a journal that refuses a write stops the cutover for an operator, saying why", "[lbctl][cutover]") {
  CutoverRig rig;
  rig.journal.fail_next("save", Error{ErrorKind::refused, "state database: permission denied for table cutovers"});
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::needs_operator);
  CHECK(outcome.message.find("could not journal the next step (state database: permission denied for table cutovers)") !=
        std::string::npos);
  CHECK(rig.haproxies[0]->mutations().empty());
}

namespace {

// old-3 has crashed: its checks fail on every LB whatever its health file says.
void crash_old_3(CutoverRig& rig) {
  rig.provider.on_health_file([&rig](const std::string& server, bool present) {
    const auto app = server == "old-3" ? AppHealth::down : present ? AppHealth::healthy : AppHealth::not_found;
    for (auto& h : rig.haproxies) h->set_app(server, app);
  });
  for (auto& h : rig.haproxies) h->set_app("old-3", AppHealth::down);
}

}  // namespace

TEST_CASE("an old server already DOWN does not hold up the drain and is replaced with the rest", "[lbctl][cutover]") {
  CutoverRig rig(2, 3);
  crash_old_3(rig);
  rig.sim.clock.advance_by(10s);
  for (auto& h : rig.haproxies) REQUIRE(h->status("old-3") == "DOWN");
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb1 v2-3 UP", "lb2 v2-1 UP", "lb2 v2-2 UP",
                                    "lb2 v2-3 UP"});
  CHECK(rig.provider.running_servers() == Strings{"v2-1", "v2-2", "v2-3"});
}

TEST_CASE("a rollback puts every old server back as it was: MAINT stays MAINT, DRAIN stays DRAIN, DOWN is not waited for",
          "[lbctl][cutover][rollback]") {
  auto method = GENERATE(DrainConfig::Method::health_file, DrainConfig::Method::haproxy);
  CutoverRig rig(2, 4);
  rig.config.drain.method = method;
  rig.config.drain.timeout = 2min;
  crash_old_3(rig);
  // An operator took old-2 out on lb1 only, and set old-4 draining on lb2.
  REQUIRE(rig.sim.run(rig.haproxies[0]->run({"set server app/old-2 state maint"})));
  REQUIRE(rig.sim.run(rig.haproxies[1]->run({"set server app/old-4 state drain"})));
  rig.sim.clock.advance_by(10s);
  rig.haproxies[0]->set_sessions("old-1", 5);  // never drains: the drain timeout rolls back
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("drain.timeout 2m passed") != std::string::npos);
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::rolled_back);
  CHECK(rig.fleet_view() == Strings{"lb1 old-1 UP", "lb1 old-2 MAINT", "lb1 old-3 DOWN", "lb1 old-4 UP",
                                    "lb2 old-1 UP", "lb2 old-2 UP", "lb2 old-3 DOWN", "lb2 old-4 DRAIN"});
  const auto* back = rig.recorder.first("rollback", "old_pool_up");
  REQUIRE(back);
  CHECK(back->text.find("not waited for: old-2 on lb1, old-3 on lb1, old-3 on lb2, old-4 on lb2") != std::string::npos);
}

TEST_CASE("a backup sorry-server and an excluded server are left alone by the cutover and by its rollback",
          "[lbctl][cutover][backup]") {
  const auto run = GENERATE(as<std::string>{}, "completed", "rolled back");
  INFO(run);
  CutoverRig rig;
  rig.config.old_pool.exclude = {"pinned"};
  for (auto& h : rig.haproxies) {
    h->add_config_server("sorry", "127.0.0.1:9099");
    h->set_backup("sorry");
    h->add_config_server("pinned", "127.0.0.1:9098");
  }
  if (run == "rolled back") rig.prober.set_fallback(FakeReply::status_code(500));
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == (run == "completed" ? Outcome::done : Outcome::failed));
  for (auto& h : rig.haproxies) {
    for (const auto& m : h->mutations()) {
      CHECK(m.find("sorry") == std::string::npos);
      CHECK(m.find("pinned") == std::string::npos);
    }
    REQUIRE(h->server("sorry"));
    CHECK(h->server("sorry")->status() == "UP");
    CHECK(h->server("pinned")->status() == "UP");
  }
  // Nothing asked of the provider about the others.
  for (const auto& call : rig.provider.calls()) {
    CHECK(call.find("sorry") == std::string::npos);
    CHECK(call.find("pinned") == std::string::npos);
  }
  const auto* plan = rig.recorder.first("preflight", "plan");
  REQUIRE(plan);
  CHECK_THAT(plan->text, Catch::Contains("left alone: sorry (backup server), pinned (old_pool.exclude: pinned)"));
}

TEST_CASE("an LB whose runtime API socket is not level admin is refused before any change: exit 2 naming it",
          "[lbctl][cutover][abilities]") {
  CutoverRig rig;
  rig.haproxies[1]->set_cli_level("operator");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::usage);
  CHECK_THAT(outcome.message, Catch::Contains("lb2: its runtime API socket is at level operator: lbctl needs `level admin`"));
  for (auto& h : rig.haproxies) CHECK(h->mutations().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("a backend with a static algorithm is refused before any change: exit 2 naming the LB and the fix",
          "[lbctl][cutover][abilities]") {
  CutoverRig rig;
  rig.haproxies[0]->set_algo("static-rr");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::usage);
  CHECK_THAT(outcome.message, Catch::Contains("lb1: backend app uses `balance static-rr`, a static algorithm"));
  CHECK_THAT(outcome.message, Catch::Contains("change `balance` in its configuration"));
  for (auto& h : rig.haproxies) CHECK(h->mutations().empty());
}

TEST_CASE("hash balance without hash-type consistent: refused before any change, exit 2, no clone, HAProxy asked "
          "with a throwaway server it refused",
          "[lbctl][cutover][abilities]") {
  CutoverRig rig;
  rig.haproxies[0]->set_algo("source");  // hash-type: HAProxy's default, map-based
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::usage);
  CHECK_THAT(outcome.message, Catch::Contains("lb1: backend app balances by source without `hash-type consistent`"));
  CHECK_THAT(outcome.message, Catch::Contains("HAProxy refused a throwaway server"));
  CHECK_THAT(outcome.message, Catch::Contains("add `hash-type consistent` to backend app"));
  // The only command that could have changed something: the add HAProxy refused.
  CHECK(rig.haproxies[0]->mutations() == Strings{"add server app/lbctl-probe 127.0.0.1:1"});
  CHECK(rig.haproxies[1]->mutations().empty());
  CHECK(rig.haproxies[0]->server_names() == Strings{"old-1", "old-2"});
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("hash balance with hash-type consistent: the throwaway server is added and deleted at once, the cutover "
          "goes on without a warning",
          "[lbctl][cutover][abilities]") {
  CutoverRig rig;
  rig.haproxies[0]->set_algo("source");
  rig.haproxies[0]->set_hash_type("consistent");
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  const auto mutations = rig.haproxies[0]->mutations();
  REQUIRE(mutations.size() >= 2);
  CHECK(mutations[0] == "add server app/lbctl-probe 127.0.0.1:1");
  CHECK(mutations[1] == "del server app/lbctl-probe");
  for (const auto& e : rig.recorder.events) CHECK(e.text.find("balances by") == std::string::npos);
}

TEST_CASE("a throwaway server a killed lbctl left: deleted and the question asked again, but a server of the user's "
          "named so is never deleted",
          "[lbctl][cutover][abilities]") {
  SECTION("left by lbctl: in MAINT at 127.0.0.1:1") {
    CutoverRig rig;
    rig.haproxies[0]->set_algo("source");
    rig.haproxies[0]->set_hash_type("consistent");
    rig.haproxies[0]->add_runtime_server("lbctl-probe", "127.0.0.1:1");
    const auto outcome = rig.cutover();
    INFO(outcome.message);
    CHECK(outcome.outcome == Outcome::done);
    CHECK(rig.haproxies[0]->server("lbctl-probe") == nullptr);
  }
  SECTION("the user's own, serving") {
    CutoverRig rig;
    rig.haproxies[0]->set_algo("source");
    rig.haproxies[0]->add_config_server("lbctl-probe", "127.0.0.1:9999");
    const auto outcome = rig.cutover();
    INFO(outcome.message);
    CHECK(rig.haproxies[0]->server("lbctl-probe") != nullptr);
    bool warned = false;
    for (const auto& e : rig.recorder.events) {
      if (e.text.find("lb1: backend app balances by source") != std::string::npos) warned = true;
    }
    CHECK(warned);
  }
}

namespace {

// Kills v2-2 on lb1 (its checks fail from then on) once the drain is watched.
boost::asio::awaitable<CutoverOutcome> kill_new_server_mid_drain(CutoverRig& rig) {
  while (!rig.recorder.first("watch", "drain_progress")) co_await rig.sim.clock.sleep_for(50ms);
  rig.haproxies[0]->set_app("v2-2", AppHealth::down);
  co_return CutoverOutcome{};
}

}  // namespace

namespace {

// Reloads lb1 once the drain is watched (its backend back to the file's,
// the new servers re-added by lbctl after the old ones), then kills v2-2 on
// it once lbctl has it UP there again.
boost::asio::awaitable<CutoverOutcome> reload_then_kill_new_server(CutoverRig& rig) {
  while (!rig.recorder.first("watch", "drain_progress")) co_await rig.sim.clock.sleep_for(50ms);
  rig.haproxies[0]->reload_original();
  rig.haproxies[0]->set_sessions("old-1", 4);  // a new process, the same users: the drain goes on
  while (rig.haproxies[0]->status("v2-2") != "UP") co_await rig.sim.clock.sleep_for(50ms);
  rig.haproxies[0]->set_app("v2-2", AppHealth::down);
  co_return CutoverOutcome{};
}

}  // namespace

TEST_CASE("after a reload mid-drain, a new server that dies is still found by name on the reloaded LB",
          "[lbctl][cutover][rollback][reload]") {
  CutoverRig rig;
  rig.config.drain.timeout = 30min;
  rig.haproxies[0]->set_sessions("old-1", 4);
  const auto cutover = rig.cutover_beside(reload_then_kill_new_server(rig));
  INFO(cutover.message);
  CHECK(cutover.outcome == Outcome::failed);
  CHECK_THAT(cutover.message, Catch::Contains("new server v2-2 (127.0.0.1:9101) died after attach: DOWN on lb1"));
  CHECK(rig.status_of(cutover.cutover_id) == db::CutoverStatus::rolled_back);
  CHECK(rig.fleet_view() == k_original_view);
}

TEST_CASE("a new server that dies mid-drain rolls back at once, naming it and the LB, without waiting for the drain",
          "[lbctl][cutover][rollback]") {
  CutoverRig rig;
  rig.config.drain.timeout = 30min;
  rig.haproxies[0]->set_sessions("old-1", 4);  // the drain would take the whole timeout
  const auto started = rig.sim.clock.now();
  const auto cutover = rig.cutover_beside(kill_new_server_mid_drain(rig));
  INFO(cutover.message);
  CHECK(cutover.outcome == Outcome::failed);
  CHECK_THAT(cutover.message, Catch::Contains("new server v2-2 (127.0.0.1:9101) died after attach: DOWN on lb1"));
  CHECK(rig.status_of(cutover.cutover_id) == db::CutoverStatus::rolled_back);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
  // Given up on after its patience (a flap is waited for), long before drain.timeout.
  CHECK(rig.sim.clock.now() - started < 5min);
}

TEST_CASE("a health file that could not be removed is not restored by the rollback, the others are",
          "[lbctl][cutover][rollback]") {
  CutoverRig rig(2, 3);
  rig.provider.fail_next("remove_health_file", "old-2", Error{ErrorKind::refused, "ssh: connection refused"});
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK_THAT(outcome.message, Catch::Contains("remove the health file of old-2: ssh: connection refused"));
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::rolled_back);
  const auto calls = rig.provider.calls();
  auto count = [&](const std::string& call) { return std::count(calls.begin(), calls.end(), call); };
  CHECK(count("remove_health_file old-1") == 1);
  CHECK(count("remove_health_file old-3") == 1);
  CHECK(count("restore_health_file old-1") == 1);
  CHECK(count("restore_health_file old-3") == 1);
  CHECK(count("restore_health_file old-2") == 0);
  CHECK(rig.provider.has_health_file("old-2"));
  for (auto& h : rig.haproxies) {
    for (const auto* name : {"old-1", "old-2", "old-3"}) CHECK(h->status(name) == "UP");
  }
}

TEST_CASE("a rollback step that fails for some servers goes on with the others and reports each failure",
          "[lbctl][cutover][rollback]") {
  CutoverRig rig(2, 3);
  rig.prober.set_fallback(FakeReply::status_code(500));  // verify fails: roll back
  rig.provider.fail_next("terminate", "v2-1", Error{ErrorKind::refused, "cloud API: 503"});
  rig.provider.fail_next("terminate", "v2-3", Error{ErrorKind::timeout, "cloud API: no answer in 30s"});
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::needs_operator);
  CHECK_THAT(outcome.message, Catch::Contains("terminate v2-1: cloud API: 503"));
  CHECK_THAT(outcome.message, Catch::Contains("terminate v2-3: cloud API: no answer in 30s"));
  // v2-2 was terminated all the same, and the old pool is back.
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2", "old-3", "v2-1", "v2-3"});
  for (auto& h : rig.haproxies) CHECK(h->status("old-1") == "UP");
}

TEST_CASE("rollback, a new server that cannot be terminated (its host cut off): the LBs as before, scaling "
          "unfrozen, an operator told, abort finishes once it answers",
          "[lbctl][cutover][rollback]") {
  CutoverRig rig(2, 2);
  rig.prober.set_fallback(FakeReply::status_code(500));  // verify fails: roll back
  rig.provider.fail_next("terminate", "v2-1", Error{ErrorKind::unreachable, "ssh: connect to host 10.0.0.23: timed out"},
                         FakeProvider::k_always);
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::needs_operator);
  CHECK_THAT(outcome.message, Catch::Contains("the old servers serve again and the new ones are off every load balancer"));
  CHECK_THAT(outcome.message, Catch::Contains("terminate v2-1: ssh: connect to host 10.0.0.23: timed out"));
  const auto calls = rig.provider.calls();
  CHECK(std::count(calls.begin(), calls.end(), "unfreeze_scaling") == 1);
  for (auto& h : rig.haproxies) {
    CHECK(h->status("old-1") == "UP");
    CHECK(h->status("v2-1").empty());
  }
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2", "v2-1"});
  // The host answers again: abort finishes the rollback.
  rig.provider.clear_failures();
  const auto aborted = rig.abort();
  INFO(aborted.message);
  CHECK(aborted.outcome == Outcome::failed);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
}
