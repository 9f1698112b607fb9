// A cutover killed at any instant (here: at any journaled point, as SIGKILL
// after the journal write) and resumed ends as an uninterrupted one does.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {


}  // namespace

TEST_CASE("killed at the start of any step, resume reaches the same end state", "[lbctl][cutover][resume]") {
  const auto step = GENERATE(as<std::string>{}, "preflight", "backup", "pre_migrate", "freeze", "clone", "verify",
                             "attach", "drain", "watch", "detach", "post_migrate", "unfreeze", "terminate");
  INFO("killed at " << step);
  CutoverRig rig;
  rig.enable_migrations({"20261121_01_add_total.sql"}, {"20261121_02_drop_legacy.sql"});
  rig.cutover_until_killed(step);
  const auto id = rig.journal.rows().begin()->first;
  REQUIRE(rig.journal.latest("shop")->value().status == db::CutoverStatus::interrupted);
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::done);
  CHECK(resumed.cutover_id == id);
  CHECK(rig.fleet_view() == k_done_view);
  CHECK(rig.provider.running_servers() == Strings{"v2-1", "v2-2"});
  CHECK_FALSE(rig.provider.frozen());
  CHECK(rig.migrator.applied(db::Phase::pre) == Strings{"20261121_01_add_total.sql"});
  CHECK(rig.migrator.applied(db::Phase::post) == Strings{"20261121_02_drop_legacy.sql"});
  CHECK(rig.status_of(id) == db::CutoverStatus::completed);
  CHECK(rig.backup.calls.size() <= 1);  // the backup is journaled: not taken twice
}

TEST_CASE("killed in the middle of a step, resume reaches the same end state", "[lbctl][cutover][resume]") {
  // The first LB command of attach, the first health file removed, a drain
  // poll, the first detach command.
  const auto [step, event] = GENERATE(table<std::string, std::string>({{"", "cloned"},
                                                                       {"", "haproxy"},
                                                                       {"", "health_files_removed"},
                                                                       {"", "drain_progress"},
                                                                       {"", "detached"},
                                                                       {"", "frozen"}}));
  INFO("killed at the first " << event);
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  auto end_sessions = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await rig.sim.clock.sleep_for(40s);
    rig.haproxies[0]->set_sessions("old-1", 0);
    co_return CutoverOutcome{};
  };
  rig.recorder.crash_on_event = event;
  std::vector<boost::asio::awaitable<CutoverOutcome>> tasks;
  tasks.push_back(run_cutover(rig.deps(), {}));
  tasks.push_back(end_sessions());
  try {
    rig.sim.run(when_all(std::move(tasks)));
  } catch (const std::runtime_error&) {
  }
  REQUIRE(rig.recorder.crashed);
  rig.recorder.crash_on_event.clear();
  rig.journal.owner_died();
  rig.haproxies[0]->set_sessions("old-1", 0);
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::done);
  CHECK(rig.fleet_view() == k_done_view);
  CHECK(rig.provider.running_servers() == Strings{"v2-1", "v2-2"});
}

TEST_CASE("killed during the rollback, resume finishes the rollback", "[lbctl][cutover][resume]") {
  CutoverRig rig;
  rig.prober.script("127.0.0.1:9101", "/health-check.html", FakeReply::refused());
  rig.cutover_until_killed("", "old_pool_up");
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::failed);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
  CHECK(rig.status_of(resumed.cutover_id) == db::CutoverStatus::rolled_back);
}

TEST_CASE("an interrupted cutover whose process died is rolled back by lbctl abort", "[lbctl][cutover][resume]") {
  CutoverRig rig;
  rig.cutover_until_killed("watch");
  const auto aborted = rig.abort();
  INFO(aborted.message);
  CHECK(aborted.outcome == Outcome::failed);
  CHECK(aborted.message.find("aborted") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
  CHECK(rig.provider.has_health_file("old-1"));
  CHECK_FALSE(rig.provider.frozen());
}

TEST_CASE("an interrupted cutover must be resumed or aborted before a new one starts", "[lbctl][cutover][resume]") {
  CutoverRig rig;
  rig.cutover_until_killed("attach");
  const auto second = rig.cutover();
  CHECK(second.outcome == Outcome::locked);
  CHECK(second.message.find("resume") != std::string::npos);
}

TEST_CASE("abort is refused once the post-migrations committed", "[lbctl][cutover][resume]") {
  CutoverRig rig;
  rig.cutover_until_killed("terminate");
  const auto aborted = rig.abort();
  CHECK(aborted.outcome == Outcome::needs_operator);
  CHECK(aborted.message.find("point of no return") != std::string::npos);
  CHECK(rig.resume().outcome == Outcome::done);
}

TEST_CASE("resume waits only what is left of terminate.delay", "[lbctl][cutover][resume]") {
  CutoverRig rig;
  rig.config.terminate_delay = 10min;
  rig.recorder.crash_on_event = "waiting";
  try {
    rig.sim.run(run_cutover(rig.deps(), {}));
  } catch (const std::runtime_error&) {
  }
  REQUIRE(rig.recorder.crashed);
  rig.recorder.crash_on_event.clear();
  rig.journal.owner_died();
  rig.sim.clock.advance_by(7min);  // the operator came back 7 minutes later
  const auto before = rig.sim.clock.now();
  REQUIRE(rig.resume().outcome == Outcome::done);
  const auto waited = rig.sim.clock.now() - before;
  CHECK(waited >= 3min);
  CHECK(waited < 4min);
}


TEST_CASE("resume with no cutover at all is a usage error", "[lbctl][cutover][resume]") {
  CutoverRig rig;
  const auto resumed = rig.resume();
  CHECK(resumed.outcome == Outcome::usage);
  CHECK_THAT(resumed.message, Catch::Contains("has no interrupted cutover"));
  CHECK(rig.haproxies[0]->log().empty());
}

TEST_CASE("resume after a crash that came just after the end says how it ended, with that outcome",
          "[lbctl][cutover][resume]") {
  CutoverRig rig;
  SECTION("completed: done (exit 0)") {
    REQUIRE(rig.cutover().outcome == Outcome::done);
    const auto log_size = rig.haproxies[0]->log().size();
    const auto resumed = rig.resume();
    CHECK(resumed.outcome == Outcome::done);
    CHECK(resumed.cutover_id == 1);
    CHECK_THAT(resumed.message, Catch::Contains("cutover 1 of service shop already completed at "));
    CHECK_THAT(resumed.message, Catch::Contains("nothing to resume"));
    CHECK(rig.haproxies[0]->log().size() == log_size);  // nothing sent
    const auto aborted = rig.abort();
    CHECK(aborted.outcome == Outcome::usage);
    CHECK_THAT(aborted.message, Catch::Contains("past the point of no return"));
  }
  SECTION("rolled back: failed (exit 1)") {
    rig.prober.set_fallback(FakeReply::status_code(500));
    REQUIRE(rig.cutover().outcome == Outcome::failed);
    const auto resumed = rig.resume();
    CHECK(resumed.outcome == Outcome::failed);
    CHECK_THAT(resumed.message, Catch::Contains("cutover 1 of service shop was already rolled back at "));
  }
}

TEST_CASE("resume compares the config as JSON, not as the journal spelled it", "[lbctl][cutover][resume]") {
  CutoverRig rig;
  rig.cutover_until_killed("watch");
  // Postgres keeps the snapshot as jsonb: its own key order and spacing.
  auto row = rig.journal.rows().at(1);
  row.config_json = nlohmann::json::parse(row.config_json).dump(2);
  rig.journal.seed(row);
  auto warned = [&rig] {
    return std::any_of(rig.recorder.events.begin(), rig.recorder.events.end(), [](const Event& e) {
      return e.text.find("the config differs from the one this cutover started with") != std::string::npos;
    });
  };
  rig.recorder.events.clear();
  CHECK(rig.resume().outcome == Outcome::done);
  CHECK_FALSE(warned());

  CutoverRig changed;
  changed.cutover_until_killed("watch");
  changed.config.drain.poll = std::chrono::milliseconds(700);
  changed.recorder.events.clear();
  CHECK(changed.resume().outcome == Outcome::done);
  CHECK(std::any_of(changed.recorder.events.begin(), changed.recorder.events.end(), [](const Event& e) {
    return e.text.find("the config differs") != std::string::npos;
  }));
}
