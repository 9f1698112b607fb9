// The abort protocol on a manual clock: a live holder asked through the
// journal and followed until it ends (or the timeout), a dead one rolled back
// here, and the refusals.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "lbctl/cutover/abort.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

// A cutover of service shop that another, live process runs.
std::int64_t held_elsewhere(CutoverRig& rig) {
  db::Cutover row;
  row.service = "shop";
  row.status = db::CutoverStatus::running;
  row.step = "watch";
  row.host = "web7";
  row.pid = 777;
  const auto id = rig.journal.seed(row);
  rig.journal.hold_lock("shop");
  return id;
}

}  // namespace

TEST_CASE("abort asks a live holder through the journal and follows it until it rolled back", "[lbctl][abort]") {
  CutoverRig rig;
  const auto id = held_elsewhere(rig);
  std::vector<std::string> seen;
  FollowOptions options;
  options.on_event = [&seen](const db::Event& e) { seen.push_back(e.kind); };
  // The holder sees the request at its next poll, rolls back in 3 s.
  auto holder = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await rig.sim.clock.sleep_for(1s);
    REQUIRE(rig.journal.abort_requested(id).value());
    (void)rig.journal.add_event(id, "rollback", "rolling_back", R"({"text": "rolling back: aborted"})");
    co_await rig.sim.clock.sleep_for(2s);
    auto row = rig.journal.rows().at(id);
    row.status = db::CutoverStatus::rolled_back;
    row.error = "aborted by `lbctl abort`";
    rig.journal.seed(row);
    co_return CutoverOutcome{};
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> both;
  both.push_back(abort_cutover(rig.deps(), options));
  both.push_back(holder());
  const auto outcomes = rig.sim.run(when_all(std::move(both)));
  CHECK(outcomes[0].outcome == Outcome::done);
  CHECK(outcomes[0].message == "rolled back: aborted by `lbctl abort`");
  CHECK(seen == std::vector<std::string>{"rolling_back"});
  CHECK(rig.sim.clock.elapsed() < 5s);
  CHECK(rig.haproxies[0]->mutations().empty());  // the holder did the work, not this process
}

TEST_CASE("abort gives up waiting at --timeout and names the holder that goes on", "[lbctl][abort]") {
  CutoverRig rig;
  held_elsewhere(rig);
  FollowOptions options;
  options.timeout = 10s;
  const auto outcome = rig.sim.run(abort_cutover(rig.deps(), options));
  CHECK(outcome.outcome == Outcome::locked);
  CHECK(outcome.message.find("host web7, pid 777") != std::string::npos);
  CHECK(outcome.message.find("has not finished rolling back after 10s") != std::string::npos);
  CHECK(rig.sim.clock.elapsed() >= 10s);
  CHECK(rig.sim.clock.elapsed() < 11s);
}

TEST_CASE("a holder that dies while abort waits is rolled back here", "[lbctl][abort]") {
  CutoverRig rig;
  rig.haproxies[0]->set_sessions("old-1", 1);  // the drain is where it dies
  rig.cutover_until_killed("watch");
  // Seen as running while its process lives; then it is gone.
  rig.journal.hold_lock("shop");
  auto dies = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await rig.sim.clock.sleep_for(2s);
    rig.journal.other_died("shop");
    co_return CutoverOutcome{};
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> both;
  both.push_back(abort_cutover(rig.deps(), FollowOptions{}));
  both.push_back(dies());
  const auto outcomes = rig.sim.run(when_all(std::move(both)));
  INFO(outcomes[0].message);
  CHECK(outcomes[0].outcome == Outcome::done);
  CHECK(rig.fleet_view() == std::vector<std::string>{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"});
}

TEST_CASE("nothing to abort, or a cutover that completed, is said so", "[lbctl][abort]") {
  CutoverRig rig;
  const auto nothing = rig.sim.run(abort_cutover(rig.deps(), FollowOptions{}));
  CHECK(nothing.outcome == Outcome::usage);
  CHECK(nothing.message == "no cutover of service shop to abort");
  REQUIRE(rig.cutover().outcome == Outcome::done);
  const auto done = rig.sim.run(abort_cutover(rig.deps(), FollowOptions{}));
  CHECK(done.outcome == Outcome::usage);
  CHECK(done.message == "no cutover of service shop to abort (the last one is completed)");
}
