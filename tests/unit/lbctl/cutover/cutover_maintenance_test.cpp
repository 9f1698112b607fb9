// A maintenance-mode cutover (the runbook with downtime): the 503 page on every LB, backup,
// pre and post migrations in one transaction, the new pool in, the old out,
// the page off.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

const std::string k_maintenance_map = "/etc/haproxy/maintenance.map";

void maintenance_mode(CutoverRig& rig) {
  rig.config.mode = CutoverMode::maintenance;
  rig.config.maintenance = MaintenanceConfig{k_maintenance_map, "Upgrading", 15min};
  for (auto& h : rig.haproxies) h->add_map_file(k_maintenance_map);
  rig.enable_migrations({"20261121_01_add_total.sql"}, {"20261121_02_drop_legacy.sql"});
  rig.config.hooks.before_drain = HookCommand{{"stop-workers"}, 5s};
  rig.config.hooks.after_cutover = HookCommand{{"warm-caches"}, 5s};
}

Strings steps_journaled(const CutoverRig& rig) {
  Strings steps;
  for (const auto& call : rig.journal.calls_starting("save")) {
    const auto step = call.substr(call.rfind(' ') + 1);
    if (steps.empty() || steps.back() != step) steps.push_back(step);
  }
  return steps;
}

}  // namespace

TEST_CASE("a maintenance-mode cutover migrates both phases at once behind the 503 page", "[lbctl][cutover][maintenance]") {
  CutoverRig rig;
  maintenance_mode(rig);
  bool page_on_during_migration = false;
  rig.migrator.apply_time = 1s;
  auto watch_page = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!rig.recorder.first("migrate", "step_started")) co_await rig.sim.clock.sleep_for(100ms);
    page_on_during_migration = rig.haproxies[0]->map_entries(k_maintenance_map).contains("maintenance") &&
                               rig.haproxies[1]->map_entries(k_maintenance_map).contains("maintenance");
    co_return CutoverOutcome{};
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> tasks;
  tasks.push_back(run_cutover(rig.deps(), {}));
  tasks.push_back(watch_page());
  auto results = rig.sim.run(when_all(std::move(tasks)));
  INFO(results[0].message);
  REQUIRE(results[0].outcome == Outcome::done);
  CHECK(steps_journaled(rig) == Strings{"preflight", "freeze", "maintenance_on", "backup", "migrate", "clone", "verify",
                                        "attach", "detach", "maintenance_off", "unfreeze", "terminate"});
  CHECK(page_on_during_migration);
  CHECK(rig.migrator.calls.back() == "apply pre+post cutover=" + std::to_string(results[0].cutover_id));
  CHECK(rig.haproxies[0]->map_entries(k_maintenance_map).empty());  // off at the end
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
  // Workers stop once the page is up; caches warm once it is down, before the old servers go.
  CHECK(rig.processes.programs() == Strings{"stop-workers", "warm-caches"});
  const auto* off = rig.recorder.first("maintenance_off", "maintenance_off");
  const auto* terminated = rig.recorder.first("terminate", "terminated");
  REQUIRE((off && terminated));
  const auto* on = rig.recorder.first("maintenance_on", "maintenance_on");
  REQUIRE(on);
  CHECK(on->text.find("Upgrading (expected back by ") != std::string::npos);
}

TEST_CASE("a failed migration in maintenance mode rolls back and turns the page off", "[lbctl][cutover][maintenance]") {
  CutoverRig rig;
  maintenance_mode(rig);
  rig.migrator.fail_next_apply(db::Phase::post, Error{ErrorKind::refused, "post/20261121_02_drop_legacy.sql:1: boom"});
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("boom") != std::string::npos);
  CHECK(rig.migrator.applied(db::Phase::pre).empty());  // one transaction: nothing of pre/ either
  CHECK(rig.haproxies[0]->map_entries(k_maintenance_map).empty());
  CHECK(rig.haproxies[1]->map_entries(k_maintenance_map).empty());
  CHECK(rig.fleet_view() == Strings{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"});
  CHECK_FALSE(rig.provider.frozen());
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::rolled_back);
}

TEST_CASE("after the migrations commit a failure keeps the page on and stops for an operator", "[lbctl][cutover][maintenance]") {
  CutoverRig rig;
  maintenance_mode(rig);
  rig.prober.script("127.0.0.1:9100", "/health-check.html", FakeReply::status_code(500));
  rig.config.health.deadline = 5s;
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::needs_operator);
  CHECK(outcome.message.find("maintenance stays on") != std::string::npos);
  CHECK(rig.haproxies[0]->map_entries(k_maintenance_map).contains("maintenance"));
  CHECK(rig.status_of(outcome.cutover_id) == db::CutoverStatus::needs_operator);
  // abort cannot undo committed migrations.
  const auto aborted = rig.abort();
  CHECK(aborted.outcome == Outcome::needs_operator);
  CHECK(aborted.message.find("point of no return") != std::string::npos);
  // The operator fixes the new build; resume finishes.
  rig.prober.script("127.0.0.1:9100", "/health-check.html", FakeReply::ok());
  const auto resumed = rig.resume();
  INFO(resumed.message);
  CHECK(resumed.outcome == Outcome::done);
  CHECK(rig.haproxies[0]->map_entries(k_maintenance_map).empty());
}
