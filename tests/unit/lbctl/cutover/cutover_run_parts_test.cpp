// CutoverRun's parts, each on its own: asking whether an abort was asked
// reads nothing (polling the journal is its own call), and the step table
// says which steps watch the new pool and what each puts back after a reload.

#include "tests/support/catch.hpp"

#include <algorithm>

#include "lbctl/cutover/cutover_run.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

TEST_CASE("abort_asked() is a pure read: only poll_journal() asks the journal", "[lbctl][cutover][structure]") {
  CutoverRig rig;
  auto row = rig.journal.begin({"shop", "test-host", 4242, "blue_green", "{}", "watch", ""});
  REQUIRE(row);
  CutoverRun run(rig.deps(), {}, *row);
  const auto polls = [&rig] { return rig.journal.calls_starting("heartbeat").size(); };
  const auto before = polls();
  for (int i = 0; i < 50; ++i) CHECK_FALSE(run.abort_asked());
  rig.sim.run(rig.sim.clock.sleep_for(1s));
  CHECK(polls() == before);  // fifty questions, a second apart from any poll: nothing asked

  REQUIRE(rig.journal.request_abort("shop"));
  CHECK_FALSE(run.abort_asked());  // not polled yet: the run does not know
  run.poll_journal();
  rig.sim.run(rig.sim.clock.sleep_for(10ms));
  CHECK(polls() == before + 1);
  CHECK(run.abort_asked());
  CHECK(run.session().requests().abort);
}

TEST_CASE("the step table says which steps watch the new pool, which is the first contact, what a reload undoes",
          "[lbctl][cutover][structure]") {
  CHECK(first_contact(Step::preflight));
  for (Step step : {Step::backup, Step::attach, Step::drain, Step::terminate, Step::rollback}) {
    CHECK_FALSE(first_contact(step));
  }
  // From attach until detach: the steps where both pools serve.
  for (Step step : {Step::stages, Step::promote, Step::drain, Step::watch}) CHECK(watches_new_pool(step));
  for (Step step : {Step::verify, Step::attach, Step::detach, Step::undo_window, Step::post_migrate}) {
    CHECK_FALSE(watches_new_pool(step));
  }
  // What a reload takes away: the new pool (attach), the drain state, the
  // deletions, the maintenance page; nothing of the rest.
  for (Step step : {Step::attach, Step::drain, Step::detach, Step::maintenance_on}) CHECK(reensure_of(step) != nullptr);
  for (Step step : {Step::preflight, Step::clone, Step::verify, Step::stages, Step::watch, Step::terminate,
                    Step::rollback, Step::maintenance_off}) {
    CHECK(reensure_of(step) == nullptr);
  }
  // The waits that do not poll the journal themselves: the run polls for them.
  for (Step step : {Step::clone, Step::backup}) CHECK(keeps_polling(step));
  for (Step step : {Step::verify, Step::attach, Step::drain, Step::watch}) CHECK_FALSE(keeps_polling(step));
}

TEST_CASE("a clone that takes longer than the lease keeps it: the run polls the journal while it waits",
          "[lbctl][cutover][structure]") {
  CutoverRig rig;
  rig.config.state_lease = 5s;
  rig.provider.set_delay("clone", 12s);
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  // Between the clone's start and its end (the journal's calls in order),
  // heartbeats every 500 ms or so: the 12 s wait never let the lease lapse.
  const auto& calls = rig.journal.calls;
  const auto started = std::find(calls.begin(), calls.end(), "event 1 clone step_started");
  REQUIRE(started != calls.end());
  const auto done = std::find(started, calls.end(), "event 1 clone cloned");
  REQUIRE(done != calls.end());
  const auto beats = std::count_if(started, done, [](const std::string& c) { return c.starts_with("heartbeat"); });
  CHECK(beats >= 20);
}
