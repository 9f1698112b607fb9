// The promotion gate and the undo window on a manual clock: the pause with
// both pools serving, `lbctl promote` through the journal, each timer, abort
// in the pause; the old servers kept ready after detach, `lbctl undo`, the
// window passing; SIGKILL at each new point and resume.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "lbctl/cutover/progress.hpp"
#include "lbctl/cutover/promotion.hpp"
#include "lbctl/cutover/promotion_requests.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

const Strings k_both_view{"lb1 old-1 UP", "lb1 old-2 UP", "lb1 v2-1 UP", "lb1 v2-2 UP",
                          "lb2 old-1 UP", "lb2 old-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"};

void manual(CutoverRig& rig, std::chrono::milliseconds promote_after = 0ms, std::chrono::milliseconds abort_after = 0ms) {
  rig.config.promotion.mode = PromotionConfig::Mode::manual;
  rig.config.promotion.auto_promote_after = promote_after;
  rig.config.promotion.auto_abort_after = abort_after;
}

// Waits (on the manual clock) until the run reported `event`.
boost::asio::awaitable<void> until_seen(CutoverRig& rig, std::string event) {
  for (int i = 0; i < 100000 && !rig.recorder.saw(event); ++i) co_await rig.sim.clock.sleep_for(100ms);
}

// The cutover and another process's action, run together; the cutover's outcome.
CutoverOutcome cutover_with(CutoverRig& rig, std::function<boost::asio::awaitable<CutoverOutcome>()> other) {
  std::vector<boost::asio::awaitable<CutoverOutcome>> both;
  both.push_back(run_cutover(rig.deps(), {}));
  both.push_back(other());
  return rig.sim.run(when_all(std::move(both)))[0];
}

CutoverProgress progress_of(CutoverRig& rig, std::int64_t id) {
  return read_progress(rig.journal.rows().at(id).progress_json).value();
}

}  // namespace

TEST_CASE("manual promotion pauses with both pools UP until lbctl promote", "[lbctl][promotion]") {
  CutoverRig rig;
  manual(rig);
  Strings during;
  std::chrono::system_clock::time_point promoted_at{};
  const auto outcome = cutover_with(rig, [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await until_seen(rig, "paused");
    co_await rig.sim.clock.sleep_for(10min);  // however long the release engineer looks
    during = rig.fleet_view();
    promoted_at = rig.sim.clock.wall_now();
    CHECK(rig.journal.request_promote("shop", "alice@web1"));
    co_return CutoverOutcome{};
  });
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  CHECK(during == k_both_view);
  CHECK(rig.fleet_view() == k_done_view);
  const auto* promoted = rig.recorder.first("promote", "promoted");
  REQUIRE(promoted != nullptr);
  INFO(promoted->text);
  CHECK(promoted->text.starts_with("promoted by alice@web1 after 60"));
  // Nothing was drained before the promotion.
  const auto* drained = rig.recorder.first("drain", "step_started");
  REQUIRE(drained != nullptr);
  CHECK(drained->time >= promoted_at);
  CHECK(progress_of(rig, outcome.cutover_id).promoted_by == "alice@web1");
}

TEST_CASE("auto_promote_after promotes by itself", "[lbctl][promotion]") {
  CutoverRig rig;
  manual(rig, 30s, 5min);
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  const auto* paused = rig.recorder.first("promote", "paused");
  const auto* promoted = rig.recorder.first("promote", "promoted");
  REQUIRE(paused != nullptr);
  REQUIRE(promoted != nullptr);
  CHECK(paused->text.find("auto promote in 30s, auto abort in 5m") != std::string::npos);
  CHECK(promoted->text.find("promoted by auto_promote_after=30s after 30s paused") != std::string::npos);
  const auto paused_for = promoted->time - paused->time;
  CHECK(paused_for >= 30s);
  CHECK(paused_for < 32s);
}

TEST_CASE("auto_abort_after rolls back a cutover nobody promoted", "[lbctl][promotion]") {
  CutoverRig rig;
  manual(rig, 0ms, 20s);
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("not promoted within auto_abort_after 20s") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
}

TEST_CASE("abort during the promotion pause rolls back", "[lbctl][promotion]") {
  CutoverRig rig;
  manual(rig);
  const auto outcome = cutover_with(rig, [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await until_seen(rig, "paused");
    CHECK(rig.journal.request_abort("shop"));
    co_return CutoverOutcome{};
  });
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message == "rolled back: aborted by `lbctl abort`");
  CHECK(rig.fleet_view() == k_original_view);
}

TEST_CASE("a new server that dies during the pause rolls the cutover back", "[lbctl][promotion]") {
  CutoverRig rig;
  manual(rig);
  const auto outcome = cutover_with(rig, [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await until_seen(rig, "paused");
    for (auto& h : rig.haproxies) h->set_app("v2-1", AppHealth::down);
    co_return CutoverOutcome{};
  });
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("v2-1") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
}

TEST_CASE("killed during the pause, resume keeps the pause's timers", "[lbctl][promotion][resume]") {
  CutoverRig rig;
  manual(rig, 60s);
  rig.cutover_until_killed("", "paused");
  const auto paused_at = progress_of(rig, 1).paused_at_ms;
  REQUIRE(paused_at > 0);
  rig.sim.clock.advance_by(40s);  // the operator notices, and resumes
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::done);
  CHECK(rig.fleet_view() == k_done_view);
  const auto p = progress_of(rig, resumed.cutover_id);
  CHECK(p.paused_at_ms == paused_at);
  CHECK(p.promoted_at_ms - paused_at >= 60000);
  CHECK(p.promoted_at_ms - paused_at < 62000);  // 20 s after the resume, not 60
}

TEST_CASE("a promote asked while the process is gone is carried out by resume", "[lbctl][promotion][resume]") {
  CutoverRig rig;
  manual(rig);
  rig.cutover_until_killed("", "paused");
  const auto asked = rig.sim.run(promote_cutover(rig.deps(), {}, "bob@ops"));
  CHECK(asked.outcome == Outcome::done);
  CHECK(asked.message.find("`lbctl resume` carries it on, promoted") != std::string::npos);
  const auto resumed = rig.resume();
  CHECK(resumed.outcome == Outcome::done);
  CHECK(progress_of(rig, resumed.cutover_id).promoted_by == "bob@ops");
}

TEST_CASE("promote is refused where there is nothing to promote", "[lbctl][promotion]") {
  CutoverRig rig;
  CHECK(rig.sim.run(promote_cutover(rig.deps(), {}, "bob@ops")).outcome == Outcome::usage);  // none ran
  rig.cutover_until_killed("watch");  // promotion.mode auto
  const auto automatic = rig.sim.run(promote_cutover(rig.deps(), {}, "bob@ops"));
  CHECK(automatic.outcome == Outcome::usage);
  CHECK(automatic.message.find("promotion.mode auto") != std::string::npos);
}

TEST_CASE("the pause's timers: the first to run out acts", "[lbctl][promotion]") {
  PromotionConfig p;
  p.mode = PromotionConfig::Mode::manual;
  p.auto_promote_after = 10s;
  p.auto_abort_after = 20s;
  CHECK(describe(pause_timers(p, 1000, 3000)) == "auto promote in 8s, auto abort in 18s");
  CHECK_FALSE(pause_timers(p, 0, 9999).promote_due());
  CHECK(pause_timers(p, 0, 10000).promote_due());
  CHECK(pause_timers(p, 0, 50000).promote_due());  // both ran out: promote first
  CHECK_FALSE(pause_timers(p, 0, 50000).abort_due());
  p.auto_promote_after = 30s;
  CHECK(pause_timers(p, 0, 50000).abort_due());
  CHECK_FALSE(pause_timers(p, 0, 50000).promote_due());
  p.auto_promote_after = 0s;
  p.auto_abort_after = 0s;
  CHECK(describe(pause_timers(p, 0, 50000)) == "no timers");
  CHECK_FALSE(pause_timers(p, 0, 50000).abort_due());
}

// --- the undo window ---

namespace {

void with_window(CutoverRig& rig, std::chrono::milliseconds window) {
  rig.config.promotion.undo_window = window;
  rig.enable_migrations({"20261121_01_add_total.sql"}, {"20261121_02_drop_legacy.sql"});
}

}  // namespace

TEST_CASE("undo in the window puts the old pool back with its ids, post not applied", "[lbctl][promotion][undo]") {
  CutoverRig rig;
  with_window(rig, 10min);
  std::uint64_t id_before = rig.haproxies[0]->server("old-1")->id;
  bool ready = false;
  const auto outcome = cutover_with(rig, [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await until_seen(rig, "undo_window");
    // Detached, but running with their health files back.
    ready = rig.fleet_view() == k_done_view && rig.provider.running("old-1") && rig.provider.has_health_file("old-1") &&
            rig.provider.has_health_file("old-2");
    co_await rig.sim.clock.sleep_for(2min);
    CHECK(rig.migrator.applied(db::Phase::post).empty());
    CHECK(rig.journal.request_undo("shop", "alice@web1"));
    co_return CutoverOutcome{};
  });
  INFO(outcome.message);
  CHECK(ready);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message == "rolled back: undone after promotion by alice@web1");
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
  CHECK(rig.migrator.applied(db::Phase::post).empty());
  CHECK(rig.haproxies[0]->server("old-1")->id == id_before);
  CHECK(progress_of(rig, outcome.cutover_id).undone_by == "alice@web1");
}

TEST_CASE("post-migrations and terminate wait until the undo window passed", "[lbctl][promotion][undo]") {
  CutoverRig rig;
  with_window(rig, 5min);
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  const auto* opened = rig.recorder.first("undo_window", "undo_window");
  const auto* post = rig.recorder.first("post_migrate", "step_started");
  REQUIRE(opened != nullptr);
  REQUIRE(post != nullptr);
  CHECK(post->time - opened->time >= 5min);
  CHECK(rig.migrator.applied(db::Phase::post) == Strings{"20261121_02_drop_legacy.sql"});
  CHECK(rig.provider.running_servers() == Strings{"v2-1", "v2-2"});
}

TEST_CASE("undo is refused outside its window, naming when it closed", "[lbctl][promotion][undo]") {
  CutoverRig rig;
  with_window(rig, 1min);
  REQUIRE(rig.cutover().outcome == Outcome::done);
  const auto late = rig.sim.run(undo_cutover(rig.deps(), {}, "alice@web1"));
  CHECK(late.outcome == Outcome::usage);
  CHECK(late.message.find("undo window closed at") != std::string::npos);
  CHECK(late.message.find("post_migrate is the point of no return") != std::string::npos);
  CHECK(rig.fleet_view() == k_done_view);

  CutoverRig before;
  with_window(before, 1min);
  before.cutover_until_killed("watch");
  const auto early = before.sim.run(undo_cutover(before.deps(), {}, "alice@web1"));
  CHECK(early.outcome == Outcome::usage);
  CHECK(early.message.find("`lbctl abort` rolls it back") != std::string::npos);

  CutoverRig none;
  none.cutover_until_killed("watch");
  CHECK(none.sim.run(undo_cutover(none.deps(), {}, "alice@web1")).outcome == Outcome::usage);
}

TEST_CASE("killed in the undo window, undo carries it out here", "[lbctl][promotion][undo][resume]") {
  CutoverRig rig;
  with_window(rig, 10min);
  rig.cutover_until_killed("", "undo_window");
  const auto undone = rig.sim.run(undo_cutover(rig.deps(), {}, "alice@web1"));
  INFO(undone.message);
  CHECK(undone.outcome == Outcome::done);
  CHECK(undone.message.find("undone") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
  CHECK(rig.migrator.applied(db::Phase::post).empty());
}

TEST_CASE("killed in the undo window, resume waits out the rest", "[lbctl][promotion][undo][resume]") {
  CutoverRig rig;
  with_window(rig, 10min);
  rig.cutover_until_killed("", "undo_window");
  const auto until = progress_of(rig, 1).undo_until_ms;
  rig.sim.clock.advance_by(4min);
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::done);
  CHECK(progress_of(rig, 1).undo_until_ms == until);
  const auto* post = rig.recorder.last("post_migrate", "step_started");
  REQUIRE(post != nullptr);
  CHECK(post->time >= std::chrono::system_clock::time_point(std::chrono::milliseconds(until)));
  CHECK(rig.fleet_view() == k_done_view);
}

TEST_CASE("killed during an undo, resume finishes it", "[lbctl][promotion][undo][resume]") {
  CutoverRig rig;
  with_window(rig, 10min);
  rig.recorder.crash_on_event = "old_pool_up";
  auto undo = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await until_seen(rig, "undo_window");
    CHECK(rig.journal.request_undo("shop", "alice@web1"));
    co_return CutoverOutcome{};
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> both;
  both.push_back(run_cutover(rig.deps(), {}));
  both.push_back(undo());
  try {
    rig.sim.run(when_all(std::move(both)));
  } catch (const std::runtime_error&) {
  }
  REQUIRE(rig.recorder.crashed);
  rig.recorder.crash_on_event.clear();
  rig.journal.owner_died();
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::failed);
  CHECK(resumed.message == "rolled back: undone after promotion by alice@web1");
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
}

TEST_CASE("status shows the pause with its timers, then the undo window", "[lbctl][promotion]") {
  db::Cutover row;
  row.status = db::CutoverStatus::running;
  row.step = "promote";
  row.config_json =
      R"({"promotion": {"mode": "manual", "auto_promote_after": "10m", "auto_abort_after": "1h", "undo_window": "5m"}})";
  CutoverProgress progress;
  progress.paused_at_ms = 1'000'000;
  row.progress_json = write_progress(progress);
  auto paused = promotion_status(row, 1'060'000);
  CHECK(paused["state"] == "paused");
  CHECK(paused["auto_promote_in_ms"] == 540000);
  CHECK(paused["auto_abort_in_ms"] == 3540000);
  CHECK(paused["timers"] == "auto promote in 9m, auto abort in 59m");
  row.promote_requested_at = std::chrono::system_clock::now();
  row.promote_requested_by = "alice@web1";
  CHECK(promotion_status(row, 1'060'000)["promote_requested_by"] == "alice@web1");

  progress.promoted_at_ms = 1'100'000;
  progress.promoted_by = "alice@web1";
  progress.undo_until_ms = 2'000'000;
  row.step = "undo_window";
  row.progress_json = write_progress(progress);
  auto window = promotion_status(row, 1'700'000);
  CHECK(window["state"] == "undo_window");
  CHECK(window["undo_left_ms"] == 300000);
  CHECK(window["promoted_by"] == "alice@web1");
  CHECK_FALSE(window.contains("promote_requested_by"));
  CHECK(promotion_status(row, 2'000'001)["state"] == "closed");
  row.step = "post_migrate";
  CHECK(promotion_status(row, 1'700'000)["state"] == "closed");

  progress.undone_by = "bob@ops";
  row.step = "rollback";
  row.status = db::CutoverStatus::rolled_back;
  row.progress_json = write_progress(progress);
  CHECK(promotion_status(row, 1'700'000)["state"] == "undone");

  db::Cutover plain;
  plain.config_json = R"({"promotion": {"mode": "auto", "undo_window": "0s"}})";
  CHECK(promotion_status(plain, 0).is_null());
  plain.config_json = "{}";  // started by an lbctl before promotion existed
  CHECK(promotion_status(plain, 0).is_null());
}

TEST_CASE("an undo killed between add server and enable health is checked on resume", "[lbctl][promotion][undo]") {
  CutoverRig rig;
  with_window(rig, 10min);
  rig.recorder.crash_on_step = "rollback";  // journaled as rolling back, nothing done yet
  auto undo = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await until_seen(rig, "undo_window");
    CHECK(rig.journal.request_undo("shop", "alice@web1"));
    co_return CutoverOutcome{};
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> both;
  both.push_back(run_cutover(rig.deps(), {}));
  both.push_back(undo());
  try {
    rig.sim.run(when_all(std::move(both)));
  } catch (const std::runtime_error&) {
  }
  REQUIRE(rig.recorder.crashed);
  rig.recorder.crash_on_event.clear();
  rig.journal.owner_died();
  // What the killed rollback had done: the old servers added, their checks not enabled yet.
  for (auto& h : rig.haproxies) {
    auto added = rig.sim.run(h->run({"add server app/old-1 127.0.0.1:9001 check inter 1s fall 2 rise 2",
                                     "add server app/old-2 127.0.0.1:9002 check inter 1s fall 2 rise 2"}));
    REQUIRE(added);
  }
  REQUIRE(rig.haproxies[0]->status("old-1") == "MAINT");  // added in MAINT, checks off
  REQUIRE(rig.journal.rows().at(1).step == "rollback");
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::failed);
  CHECK(rig.fleet_view() == k_original_view);  // UP (checked), not "no check"
}
