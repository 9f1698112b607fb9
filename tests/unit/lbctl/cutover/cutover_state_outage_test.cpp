// The state database out of reach mid-cutover (a restart, a failover): the
// fleet stays as it is, waits go on reading the LBs, lbctl reconnects, takes
// the service lock again and checks the row, then carries on; past
// state.reconnect_timeout, or with the lock taken by another, it stops.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

using Task = boost::asio::awaitable<CutoverOutcome>;

// The index of the first event of `kind` (at `step`, when given), or -1.
long index_of(const Recorder& recorder, std::string_view kind, std::string_view step = "") {
  for (std::size_t i = 0; i < recorder.events.size(); ++i) {
    const auto& e = recorder.events[i];
    if (e.name() == kind && (step.empty() || e.step == step)) return static_cast<long>(i);
  }
  return -1;
}

long count_between(const Recorder& recorder, std::string_view kind, long from, long to) {
  long n = 0;
  for (long i = from + 1; i < to; ++i) {
    if (recorder.events[static_cast<std::size_t>(i)].name() == kind) ++n;
  }
  return n;
}

// Stops the state database once the watch has started, with a session held
// on old-1; lets the session end after `drained_after`, and brings the
// database back after `down_for` (never when zero); `then` runs after.
Task outage_during_watch(CutoverRig& rig, std::chrono::milliseconds down_for, std::chrono::milliseconds drained_after,
                         std::function<void()> then = {}) {
  while (!rig.recorder.first("watch", "step_started")) co_await rig.sim.clock.sleep_for(100ms);
  rig.journal.go_down();
  co_await rig.sim.clock.sleep_for(drained_after);
  rig.haproxies[0]->set_sessions("old-1", 0);
  if (down_for.count() > 0) {
    co_await rig.sim.clock.sleep_for(down_for - drained_after);
    if (then) then();
    rig.journal.come_back();
  }
  co_return CutoverOutcome{};
}

CutoverOutcome run_with_outage(CutoverRig& rig, Task disturbance) {
  std::vector<Task> tasks;
  tasks.push_back(run_cutover(rig.deps(), {}));
  tasks.push_back(std::move(disturbance));
  return rig.sim.run(when_all(std::move(tasks)))[0];
}

}  // namespace

TEST_CASE("a 3 s state database outage during the watch is ridden out: the watch goes on, no step starts, "
          "the cutover completes",
          "[lbctl][cutover][outage]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  const auto outcome = run_with_outage(rig, outage_during_watch(rig, 3s, 1s));
  REQUIRE(outcome.outcome == Outcome::done);
  const long lost = index_of(rig.recorder, "state_database_lost");
  const long back = index_of(rig.recorder, "state_database_back");
  REQUIRE(lost >= 0);
  REQUIRE(back > lost);
  // The watch kept reading the LBs while the database was away...
  CHECK(count_between(rig.recorder, "drain_progress", lost, back) >= 1);
  // ...but the next step waited for it.
  CHECK(index_of(rig.recorder, "step_started", "detach") > back);
  // Noticed at the next heartbeat or LB poll (within a second of the stop),
  // back at the first try after the restart (backoff at most 5 s).
  const long out_ms = rig.recorder.events[static_cast<std::size_t>(back)].details["out_ms"].get<long>();
  CHECK(out_ms >= 2000);
  CHECK(out_ms <= 3000 + 5000);
  CHECK(rig.journal.calls_starting("reacquire").size() >= 2);  // backoff: tried while down, then back
  // What happened meanwhile is in the journal too, in order.
  const auto stored = rig.journal.all_events(outcome.cutover_id);
  const auto lost_stored = std::find_if(stored.begin(), stored.end(), [](const auto& e) { return e.kind == "state_database_lost"; });
  const auto back_stored = std::find_if(stored.begin(), stored.end(), [](const auto& e) { return e.kind == "state_database_back"; });
  CHECK(lost_stored != stored.end());
  CHECK(back_stored > lost_stored);
  CHECK(rig.journal.rows().at(outcome.cutover_id).status == db::CutoverStatus::completed);
  CHECK_FALSE(rig.journal.held_service().has_value());
}

TEST_CASE("a state database out of reach for longer than state.reconnect_timeout stops the cutover for an operator, "
          "the LBs untouched since",
          "[lbctl][cutover][outage]") {
  CutoverRig rig;
  rig.config.state_reconnect_timeout = 5s;
  rig.haproxies[0]->set_sessions("old-1", 1);
  std::size_t mutations_at_outage = 0;
  auto outage = [&]() -> Task {
    while (!rig.recorder.first("watch", "step_started")) co_await rig.sim.clock.sleep_for(100ms);
    rig.journal.go_down();
    mutations_at_outage = rig.haproxies[0]->mutations().size() + rig.haproxies[1]->mutations().size();
    co_await rig.sim.clock.sleep_for(1s);
    rig.haproxies[0]->set_sessions("old-1", 0);  // drained: the watch would move on if it could
    co_return CutoverOutcome{};
  };
  const auto outcome = run_with_outage(rig, outage());
  CHECK(outcome.outcome == Outcome::needs_operator);
  CHECK_THAT(outcome.message, Catch::Contains("state.reconnect_timeout (5s"));
  CHECK_THAT(outcome.message, Catch::Contains("run `lbctl resume` to finish"));
  CHECK(rig.haproxies[0]->mutations().size() + rig.haproxies[1]->mutations().size() == mutations_at_outage);
  CHECK(rig.recorder.first("detach", "step_started") == nullptr);
}

TEST_CASE("when another lbctl took the cutover over while the state database was away, the cutover stops",
          "[lbctl][cutover][outage]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  const auto outcome = run_with_outage(rig, outage_during_watch(rig, 3s, 1s, [&] {
                                  rig.journal.hold_lock("shop");
                                  rig.journal.taken_over(1);
                                }));
  CHECK(outcome.outcome == Outcome::needs_operator);
  CHECK_THAT(outcome.message, Catch::Contains("no longer owns it"));
  CHECK(rig.recorder.first("detach", "step_started") == nullptr);
}

TEST_CASE("a service lock still held when the database is back, the cutover still ours, is waited for",
          "[lbctl][cutover][outage]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  // The server has not found this lbctl's old lock session dead yet: held, by nobody else's cutover.
  auto ghost = [&rig]() -> Task {
    co_await outage_during_watch(rig, 3s, 1s, [&] { rig.journal.hold_lock("shop"); });
    co_await rig.sim.clock.sleep_for(8s);
    rig.journal.other_died("shop");
    co_return CutoverOutcome{};
  };
  const auto outcome = run_with_outage(rig, ghost());
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  const long back = index_of(rig.recorder, "state_database_back");
  REQUIRE(back >= 0);
  CHECK(rig.recorder.events[static_cast<std::size_t>(back)].details["out_ms"].get<long>() >= 11000);
}

TEST_CASE("a lock lost with its connection while the database stays up is taken again at once", "[lbctl][cutover][outage]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  auto lose = [&]() -> Task {
    while (!rig.recorder.first("watch", "step_started")) co_await rig.sim.clock.sleep_for(100ms);
    rig.journal.lose_lock();
    co_await rig.sim.clock.sleep_for(2s);
    rig.haproxies[0]->set_sessions("old-1", 0);
    co_return CutoverOutcome{};
  };
  const auto outcome = run_with_outage(rig, lose());
  CHECK(outcome.outcome == Outcome::done);
  CHECK(rig.recorder.saw("state_database_back"));
}

TEST_CASE("a step-boundary save that finds the database out of reach waits for it, then saves", "[lbctl][cutover][outage]") {
  CutoverRig rig;
  rig.journal.fail_next("save", Error{ErrorKind::unreachable, "state database: server closed the connection"});
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::done);
  CHECK(rig.recorder.saw("state_database_lost"));
  CHECK(rig.recorder.saw("state_database_back"));
}

TEST_CASE("a database that goes away again while lbctl saves what it journaled meanwhile keeps the rest for the next "
          "time",
          "[lbctl][cutover][outage]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);
  const auto outcome = run_with_outage(rig, outage_during_watch(rig, 3s, 1s, [&] {
    rig.journal.fail_next("add_event", Error{ErrorKind::unreachable, "state database: server closed the connection"});
  }));
  REQUIRE(outcome.outcome == Outcome::done);
  long lost = 0;
  for (const auto& e : rig.recorder.events) lost += e.name() == "state_database_lost" ? 1 : 0;
  CHECK(lost == 2);
  // Every event the run emitted while away reached the journal in the end.
  const auto stored = rig.journal.all_events(outcome.cutover_id);
  const auto stored_lost = std::count_if(stored.begin(), stored.end(), [](const auto& e) { return e.kind == "state_database_lost"; });
  CHECK(stored_lost == 2);
  CHECK(rig.journal.rows().at(outcome.cutover_id).status == db::CutoverStatus::completed);
}
