// Sticky users through the drain (drain.idle): an old server a user with a
// persistence cookie still comes back to is drained only once no session
// went to it for drain.idle on every LB (HAProxy's lastsess), and no
// stick-table entry points at it; at drain.timeout the users still active
// are counted; plan says how the backends keep users and warns when
// drain.idle is missing.

#include "tests/support/catch.hpp"

#include "lbctl/cutover/plan_report.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

// A user on `server` of `lb` making a request every 500 ms from the start
// until `active` after the drain started; the wall time of its last request.
boost::asio::awaitable<CutoverOutcome> sticky_user(CutoverRig& rig, std::size_t lb, std::string server,
                                                   std::chrono::milliseconds active,
                                                   std::chrono::system_clock::time_point& last) {
  std::optional<Clock::TimePoint> until;
  while (!until || rig.sim.clock.now() < *until) {
    if (!until && rig.recorder.first("drain", "step_started")) until = rig.sim.clock.now() + active;
    rig.haproxies[lb]->touch(server);
    last = rig.sim.clock.wall_now();
    co_await rig.sim.clock.sleep_for(500ms);
  }
  co_return CutoverOutcome{};
}

}  // namespace

TEST_CASE("drain.idle: an old server is drained only once no session went to it for drain.idle", "[lbctl][cutover][sticky]") {
  CutoverRig rig;
  rig.config.drain.idle = 3s;
  rig.haproxies[0]->set_cookie_name("SRV");
  rig.haproxies[0]->set_dynamic_cookie_key(true);
  std::chrono::system_clock::time_point last{};
  const auto outcome = rig.cutover_beside(sticky_user(rig, 1, "old-2", 10s, last));
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  const auto* watch = rig.recorder.first("watch", "step_started");
  const auto* drained = rig.recorder.first("watch", "drained");
  REQUIRE(watch);
  REQUIRE(drained);
  CHECK(last - watch->time >= 8s);
  // Not before drain.idle after the user's last request, and within a poll or two of it.
  CHECK(drained->time >= last + 3s);
  // lastsess counts whole seconds: lbctl waits for a count above drain.idle (a second more at most).
  CHECK(drained->time <= last + 4s + 2 * rig.config.drain.poll);
  CHECK_THAT(drained->text, Catch::Contains("and none for 3s on any of them"));
  // While the user was active, the drain said where.
  bool said = false;
  for (const auto& e : rig.recorder.events) {
    if (e.kind != EventKind::drain_progress || !e.details.contains("sticky") || e.details["sticky"].empty()) continue;
    said = true;
    CHECK(e.details["sticky"][0]["lb"] == "lb2");
    CHECK(e.details["sticky"][0]["server"] == "old-2");
    CHECK_THAT(e.text, Catch::Contains("0 sessions left; 1 old server still used by sticky users: old-2 on lb2"));
  }
  CHECK(said);
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
}

TEST_CASE("without drain.idle, the drain ends at no session however recently a user came", "[lbctl][cutover][sticky]") {
  CutoverRig rig;
  std::chrono::system_clock::time_point last{};
  const auto outcome = rig.cutover_beside(sticky_user(rig, 0, "old-1", 10s, last));
  REQUIRE(outcome.outcome == Outcome::done);
  const auto* watch = rig.recorder.first("watch", "step_started");
  const auto* drained = rig.recorder.first("watch", "drained");
  REQUIRE(drained);
  CHECK(drained->time - watch->time < 2s);
  CHECK(drained->text == "no sessions left on the old servers");
}

TEST_CASE("drain.idle: a stick-table entry pointing at an old server holds the drain until it is gone",
          "[lbctl][cutover][sticky]") {
  CutoverRig rig;
  rig.config.drain.idle = 2s;
  rig.haproxies[0]->set_stick_entries("old-1", 2);
  auto expire_later = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!rig.recorder.first("watch", "step_started")) co_await rig.sim.clock.sleep_for(100ms);
    co_await rig.sim.clock.sleep_for(20s);
    rig.haproxies[0]->set_stick_entries("old-1", 0);
    co_return CutoverOutcome{};
  };
  const auto outcome = rig.cutover_beside(expire_later());
  REQUIRE(outcome.outcome == Outcome::done);
  const auto* watch = rig.recorder.first("watch", "step_started");
  const auto* drained = rig.recorder.first("watch", "drained");
  REQUIRE(drained);
  CHECK(drained->time - watch->time >= 20s);
  bool counted = false;
  for (const auto& e : rig.recorder.events) {
    if (e.kind == EventKind::drain_progress && e.text.find("2 stick-table entries") != std::string::npos) counted = true;
  }
  CHECK(counted);
}

TEST_CASE("drain.idle with on_timeout force: the sticky users still active at the deadline are counted, then moved",
          "[lbctl][cutover][sticky]") {
  CutoverRig rig;
  rig.config.drain.idle = 3s;
  rig.config.drain.timeout = 8s;
  rig.config.drain.on_timeout = DrainConfig::OnTimeout::force;
  std::chrono::system_clock::time_point last{};
  const auto outcome = rig.cutover_beside(sticky_user(rig, 0, "old-1", 30s, last));
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  const auto* cut = rig.recorder.first("watch", "sessions_cut");
  REQUIRE(cut);
  CHECK_THAT(cut->text, Catch::Contains("drain.timeout 8s passed: cut 0 sessions; 1 old server still had active "
                                        "sticky users: old-1 on lb1 (last session 0s ago, "));
  REQUIRE(cut->details["sticky"].size() == 1);
  CHECK(cut->details["sticky"][0]["recent_sessions"].get<int>() >= 5);
  const auto* detached = rig.recorder.first("detach", "detached");
  REQUIRE(detached);
  CHECK(detached->time >= cut->time);
  // The user came to old-1 until the deadline: it was not moved before.
  CHECK(cut->time - rig.recorder.first("watch", "step_started")->time >= 8s);
}

TEST_CASE("drain.idle with on_timeout abort: the failure names the servers sticky users kept", "[lbctl][cutover][sticky]") {
  CutoverRig rig;
  rig.config.drain.idle = 3s;
  rig.config.drain.timeout = 8s;
  std::chrono::system_clock::time_point last{};
  const auto outcome = rig.cutover_beside(sticky_user(rig, 1, "old-1", 30s, last));
  CHECK(outcome.outcome == Outcome::failed);
  CHECK_THAT(outcome.message, Catch::Contains("drain.timeout 8s passed with 0 sessions left; 1 old server still had "
                                              "active sticky users: old-1 on lb2"));
  CHECK(rig.fleet_view() == Strings{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"});
}

TEST_CASE("plan says how each backend keeps users, and warns with a count when drain.idle is not set",
          "[lbctl][cutover][sticky][plan]") {
  CutoverRig rig;
  rig.persist_all();
  for (std::size_t i = 0; i < rig.haproxies.size(); ++i) {
    rig.haproxies[i]->set_cookie_name("SRV");
    rig.haproxies[i]->set_dynamic_cookie_key(true);
    std::string text = CutoverRig::cfg_text(2);
    text.replace(text.find("    balance roundrobin\n"), 0,
                 "    cookie SRV insert indirect nocache dynamic\n    dynamic-cookie-key s3cr3t-k3y\n"
                 "    stick-table type ip size 1m expire 30m\n    stick on src\n");
    rig.store->put(CutoverRig::cfg_path(i), text);
  }
  rig.haproxies[1]->set_stick_entries("old-1", 4);
  rig.haproxies[1]->set_stick_entries("old-2", 3);
  rig.haproxies[1]->set_sessions("old-2", 2);
  const auto report = rig.sim.run(gather_plan(rig.config, *rig.fleet, rig.provider, nullptr, 1000, "r2"));
  REQUIRE(report.has_value());
  const auto& lb2 = report->lbs[1];
  CHECK(lb2.persistence == Strings{"cookie SRV insert indirect nocache dynamic (with a dynamic-cookie-key)",
                                   "stick-table type ip size 1m expire 30m", "stick on src",
                                   "stick table app (7 entries)"});
  CHECK(lb2.persistence_plan ==
        Strings{"new servers get dynamic cookies (`enable dynamic-cookie backend app` once added)",
                "the drain ends when the old servers have no session: users between two requests move (drain.idle "
                "is not set)"});
  const auto warning = std::find_if(report->warnings.begin(), report->warnings.end(), [](const std::string& w) {
    return w.starts_with("lb2: backend app keeps users on their server");
  });
  REQUIRE(warning != report->warnings.end());
  CHECK_THAT(*warning, Catch::Contains("2 sessions on the old servers now, and 7 stick-table entries (users) point at "
                                       "them"));
  // The key is a secret: never in what plan says.
  for (const auto& w : report->warnings) CHECK(w.find("s3cr3t") == std::string::npos);
  for (const auto& line : lb2.persistence) CHECK(line.find("s3cr3t") == std::string::npos);

  rig.config.drain.idle = 30s;
  const auto idle = rig.sim.run(gather_plan(rig.config, *rig.fleet, rig.provider, nullptr, 1000, "r2"));
  REQUIRE(idle.has_value());
  CHECK(idle->lbs[1].persistence_plan.back() ==
        "the drain waits until no session went to an old server for 30s on every LB and no stick-table entry points "
        "at one");
  for (const auto& w : idle->warnings) CHECK(w.find("drain.idle is not set") == std::string::npos);
}

TEST_CASE("dynamic cookies from different keys on two LBs are caught at the attach and rolled back",
          "[lbctl][cutover][sticky][cookie]") {
  CutoverRig rig;
  rig.haproxies[0]->set_cookie_name("SRV");
  rig.haproxies[0]->set_dynamic_cookie_key(true, "key-of-lb1");
  rig.haproxies[1]->set_cookie_name("SRV");
  rig.haproxies[1]->set_dynamic_cookie_key(true, "key-of-lb2");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK_THAT(outcome.message, Catch::Contains("v2-1 got the cookie "));
  CHECK_THAT(outcome.message, Catch::Contains("their `dynamic-cookie-key`s differ"));
  CHECK(rig.fleet_view() == Strings{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"});
}

TEST_CASE("drain.idle with a persisted file naming a stick table HAProxy does not hold: the drain reads none",
          "[lbctl][cutover][sticky]") {
  CutoverRig rig;
  rig.config.drain.idle = 2s;
  rig.persist_all();
  for (std::size_t i = 0; i < rig.haproxies.size(); ++i) {
    std::string text = CutoverRig::cfg_text(2);
    text.replace(text.find("    balance roundrobin\n"), 0, "    stick-table type ip size 1m expire 30m\n    stick on src\n");
    rig.store->put(CutoverRig::cfg_path(i), text);
  }
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  for (auto& h : rig.haproxies) {
    for (const auto& command : h->log()) CHECK(command.find("show table app") == std::string::npos);
  }
}

TEST_CASE("a backend that only hashes gets no drain.idle warning: its users do not come back to a drained server",
          "[lbctl][cutover][sticky][plan]") {
  CutoverRig rig;
  for (auto& h : rig.haproxies) {
    h->set_algo("source");
    h->set_hash_type("consistent");
  }
  const auto report = rig.sim.run(gather_plan(rig.config, *rig.fleet, rig.provider, nullptr, 1000, "r2"));
  REQUIRE(report.has_value());
  CHECK(report->lbs[0].persistence == Strings{"balance source (a user's server follows the hash)"});
  for (const auto& w : report->warnings) CHECK(w.find("drain.idle") == std::string::npos);
}
