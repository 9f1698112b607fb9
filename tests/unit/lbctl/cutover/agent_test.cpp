// `lbctl agent`'s one look at a service (agent_tick) and `submit --wait`'s
// following (wait_for_request), with the fake journal and a manual clock:
// queued requests run oldest first and once, a cutover is adopted only once
// its runner's lease ran out (and says who took it and why), and one that
// needs an operator is left alone.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "lbctl/cutover/agent.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

db::NewRequest agent_request(const std::string& release, bool queue) {
  db::NewRequest r;
  r.service = "shop";
  r.release = release;
  r.requested_by = "alice@laptop";
  r.queue = queue;
  return r;
}

CutoverDeps agent_deps(CutoverRig& rig) {
  auto deps = rig.deps();
  deps.agent = "agent test-host (pid 4242)";
  return deps;
}

AgentTick tick(CutoverRig& rig) { return rig.sim.run(agent_tick(agent_deps(rig))); }

}  // namespace

TEST_CASE("an agent runs queued requests oldest first, each once, as cutovers that carry their release",
          "[lbctl][cutover][agent]") {
  CutoverRig rig;
  rig.config.new_pool.name_prefix = "{release}-";
  REQUIRE(rig.journal.submit_request(agent_request("v2", false)));
  REQUIRE(rig.journal.submit_request(agent_request("v3", true)));
  // Without --queue a third is refused while two wait.
  const auto refused = rig.journal.submit_request(agent_request("v4", false));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);

  const auto first = tick(rig);
  CHECK(first.action == AgentAction::ran_request);
  CHECK(first.request_id == 1);
  REQUIRE(first.outcome);
  INFO(first.outcome->message);
  CHECK(first.outcome->outcome == Outcome::done);
  CHECK(rig.journal.rows().at(1).release == "v2");
  CHECK(rig.journal.request_rows().at(1).state == "taken");
  CHECK(rig.journal.request_rows().at(1).cutover_id == 1);
  CHECK(rig.journal.request_rows().at(1).agent == "agent test-host (pid 4242)");
  CHECK(rig.journal.request_rows().at(2).state == "queued");
  const auto* started = rig.recorder.first("preflight", "started");
  REQUIRE(started);
  CHECK(started->text.find("for request 1 taken by agent test-host") != std::string::npos);
  CHECK(started->details["request_id"] == 1);

  const auto second = tick(rig);
  CHECK(second.action == AgentAction::ran_request);
  CHECK(second.request_id == 2);
  CHECK(rig.journal.rows().at(2).release == "v3");
  CHECK(rig.fleet_view() ==
        std::vector<std::string>{"lb1 v3-1 UP", "lb1 v3-2 UP", "lb2 v3-1 UP", "lb2 v3-2 UP"});

  const auto third = tick(rig);
  CHECK(third.action == AgentAction::idle);
  CHECK(third.why == "no request queued");
  CHECK(rig.journal.rows().size() == 2);

  // One that names no release deploys the agent's config's release:, as `lbctl cutover` would.
  rig.config.release = "v9";
  REQUIRE(rig.journal.submit_request(agent_request("", false)));
  CHECK(tick(rig).action == AgentAction::ran_request);
  CHECK(rig.journal.rows().at(3).release == "v9");
}

TEST_CASE("an agent leaves a cutover whose runner holds its lease, and adopts it once the lease ran out, saying who "
          "and why",
          "[lbctl][cutover][agent]") {
  CutoverRig rig;
  rig.journal.set_lease(15s);
  rig.cutover_until_killed("drain");
  rig.recorder.events.clear();

  const auto early = tick(rig);
  CHECK(early.action == AgentAction::idle);
  CHECK(early.why.find("is held by its runner") != std::string::npos);
  CHECK(rig.journal.calls_starting("adopt").empty());

  rig.sim.run(rig.sim.clock.sleep_for(15s));
  const auto adopted = tick(rig);
  CHECK(adopted.action == AgentAction::took_over);
  CHECK(adopted.cutover_id == 1);
  REQUIRE(adopted.outcome);
  INFO(adopted.outcome->message);
  CHECK(adopted.outcome->outcome == Outcome::done);
  CHECK(rig.fleet_view() == k_done_view);
  const auto* taken = rig.recorder.first("drain", "taken_over");
  REQUIRE(taken);
  CHECK(taken->details["agent"] == "agent test-host (pid 4242)");
  CHECK(taken->details["from_host"] == "test-host");
  CHECK(taken->details["reason"].get<std::string>().find("lease of its runner") != std::string::npos);
  std::size_t journaled = 0;
  for (const auto& e : rig.journal.all_events(1)) journaled += e.kind == "taken_over" ? 1 : 0;
  CHECK(journaled == 1);
  CHECK(rig.journal.takeovers("shop").value() == 1);
}

TEST_CASE("an agent's take-over rides out a reload mid-drain: the new pool put back, then completed",
          "[lbctl][cutover][agent][reload]") {
  CutoverRig rig;
  rig.journal.set_lease(15s);
  rig.haproxies[1]->set_sessions("old-1", 2);  // the drain waits on lb2
  rig.cutover_until_killed("drain");
  rig.sim.run(rig.sim.clock.sleep_for(15s));
  auto agent = [&rig]() -> boost::asio::awaitable<CutoverOutcome> {
    auto t = co_await agent_tick(agent_deps(rig));
    co_return t.outcome.value_or(CutoverOutcome{Outcome::usage, 0, "idle: " + t.why});
  };
  // Once the agent has taken it over and drains: lb2 reloads from its file (the new servers gone).
  auto reload = [&rig]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!rig.recorder.saw("taken_over") || rig.haproxies[1]->status("old-1") != "NOLB") {
      co_await rig.sim.clock.sleep_for(100ms);
    }
    rig.haproxies[1]->reload_original();
    co_await rig.sim.clock.sleep_for(5s);
    rig.haproxies[1]->set_sessions("old-1", 0);
    co_return CutoverOutcome{};
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> tasks;
  tasks.push_back(agent());
  tasks.push_back(reload());
  const auto outcome = rig.sim.run(when_all(std::move(tasks)))[0];
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  CHECK(rig.recorder.saw("reloaded"));
  CHECK(rig.fleet_view() == k_done_view);
}

TEST_CASE("an agent leaves a cutover that needs an operator alone, and runs no request behind it",
          "[lbctl][cutover][agent]") {
  CutoverRig rig;
  db::Cutover stuck;
  stuck.service = "shop";
  stuck.status = db::CutoverStatus::needs_operator;
  stuck.step = "rollback";
  stuck.mode = "blue_green";
  stuck.host = "web1";
  stuck.pid = 7;
  rig.journal.seed(stuck);
  REQUIRE(rig.journal.submit_request(agent_request("v2", true)));
  const auto t = tick(rig);
  CHECK(t.action == AgentAction::idle);
  CHECK(t.why.find("needs an operator") != std::string::npos);
  CHECK(rig.journal.calls_starting("adopt").empty());
  CHECK(rig.journal.calls_starting("begin").empty());
  CHECK(rig.journal.request_rows().at(1).state == "queued");
}

TEST_CASE("an agent that cannot take a cutover over (its step is not in this config's flow) changes nothing and "
          "says why",
          "[lbctl][cutover][agent]") {
  CutoverRig rig;
  db::Cutover left;
  left.service = "shop";
  left.status = db::CutoverStatus::running;  // nobody holds the lock: it reads interrupted
  left.step = "no_such_step";
  left.mode = "blue_green";
  left.host = "web1";
  left.pid = 7;
  rig.journal.seed(left);
  const auto t = tick(rig);
  CHECK(t.action == AgentAction::idle);
  CHECK(t.why.find("not taken over") != std::string::npos);
  CHECK(t.why.find("no_such_step") != std::string::npos);
  CHECK(rig.journal.calls_starting("adopt").empty());
  CHECK(rig.fleet_view() == k_original_view);
}

TEST_CASE("submit --wait follows its request from queued to the cutover's end, with the outcome's exit code",
          "[lbctl][cutover][agent]") {
  CutoverRig rig;
  REQUIRE(rig.journal.submit_request(agent_request("v2", false)));
  std::vector<std::string> taken;
  std::vector<std::string> kinds;
  FollowOptions options;
  options.poll = 500ms;
  options.on_event = [&kinds](const db::Event& e) { kinds.push_back(e.kind); };
  auto agent = [&rig]() -> boost::asio::awaitable<CutoverOutcome> {
    co_await rig.sim.clock.sleep_for(3s);  // the agent comes along later
    auto t = co_await agent_tick(agent_deps(rig));
    co_return t.outcome.value_or(CutoverOutcome{});
  };
  std::function<void(const db::CutoverRequest&)> on_taken = [&taken](const db::CutoverRequest& r) {
    taken.push_back(std::to_string(r.id) + " " + std::to_string(r.cutover_id));
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> tasks;
  tasks.push_back(wait_for_request(rig.deps(), 1, options, on_taken));
  tasks.push_back(agent());
  const auto outcomes = rig.sim.run(when_all(std::move(tasks)));
  INFO(outcomes[0].message);
  CHECK(outcomes[0].outcome == Outcome::done);
  CHECK(outcomes[0].cutover_id == 1);
  CHECK(outcomes[0].message.find("completed") != std::string::npos);
  CHECK(taken == std::vector<std::string>{"1 1"});
  REQUIRE_FALSE(kinds.empty());
  CHECK(kinds.front() == "started");
  CHECK(kinds.back() == "completed");

  const auto unknown = rig.sim.run(wait_for_request(rig.deps(), 9, options, nullptr));
  CHECK(unknown.outcome == Outcome::usage);
}

TEST_CASE("how a finished cutover ended, as submit --wait's outcome", "[lbctl][cutover][agent]") {
  db::Cutover row;
  row.id = 3;
  row.status = db::CutoverStatus::rolled_back;
  row.error = "verify failed";
  CHECK(ended_as(row)->outcome == Outcome::failed);
  CHECK(ended_as(row)->message == "cutover 3 rolled back: verify failed");
  row.status = db::CutoverStatus::stopped;
  CHECK(ended_as(row)->outcome == Outcome::failed);
  row.status = db::CutoverStatus::needs_operator;
  CHECK(ended_as(row)->outcome == Outcome::needs_operator);
  row.status = db::CutoverStatus::completed;
  CHECK(ended_as(row)->outcome == Outcome::done);
  row.status = db::CutoverStatus::running;
  CHECK_FALSE(ended_as(row));
  row.status = db::CutoverStatus::interrupted;
  CHECK_FALSE(ended_as(row));
}
