// The step table: each mode's order, what a failure at each step means, the
// point of no return, and the hooks around the steps.

#include "tests/support/catch.hpp"

#include "lbctl/cutover/step_table.hpp"

using namespace lbctl;
using Strings = std::vector<std::string>;

namespace {

Strings names(const Flow& flow) {
  Strings out;
  for (const auto& s : flow.steps) out.emplace_back(to_string(s.step));
  return out;
}

Strings where(const Flow& flow, OnFailure policy) {
  Strings out;
  for (const auto& s : flow.steps) {
    if (s.on_failure == policy) out.emplace_back(to_string(s.step));
  }
  return out;
}

}  // namespace

TEST_CASE("a blue-green cutover runs the runbook's order of steps, stages only when configured", "[lbctl][step_table]") {
  Config config;
  CHECK(names(flow_for(config)) == Strings{"preflight", "backup", "pre_migrate", "freeze", "clone", "verify", "attach",
                                           "drain", "watch", "detach", "post_migrate", "unfreeze", "terminate"});
  config.stages.push_back(StageConfig{});
  CHECK(names(flow_for(config)) == Strings{"preflight", "backup", "pre_migrate", "freeze", "clone", "verify", "attach",
                                           "stages", "drain", "watch", "detach", "post_migrate", "unfreeze",
                                           "terminate"});
}

TEST_CASE("a manual promotion pauses after the stages, an undo window follows detach", "[lbctl][step_table]") {
  Config config;
  config.stages.push_back(StageConfig{});
  config.promotion.mode = PromotionConfig::Mode::manual;
  config.promotion.undo_window = std::chrono::minutes(10);
  const auto flow = flow_for(config);
  CHECK(names(flow) == Strings{"preflight", "backup", "pre_migrate", "freeze", "clone", "verify", "attach", "stages",
                               "promote", "drain", "watch", "detach", "undo_window", "post_migrate", "unfreeze",
                               "terminate"});
  // Both before the point of no return: abort (and undo) roll back from either.
  CHECK(flow.rolls_back(Step::promote));
  CHECK(flow.rolls_back(Step::undo_window));
  CHECK_FALSE(flow.past_no_return(Step::undo_window));
  config.promotion.mode = PromotionConfig::Mode::automatic;
  config.promotion.undo_window = std::chrono::milliseconds(0);
  CHECK(flow_for(config).find(Step::promote) == nullptr);
  CHECK(flow_for(config).find(Step::undo_window) == nullptr);
}

TEST_CASE("blue-green: freeze to detach rolls back, post_migrate is the point of no return", "[lbctl][step_table]") {
  Config config;
  config.stages.push_back(StageConfig{});
  const auto flow = flow_for(config);
  CHECK(where(flow, OnFailure::stop) == Strings{"preflight", "backup", "pre_migrate"});
  CHECK(where(flow, OnFailure::roll_back) ==
        Strings{"freeze", "clone", "verify", "attach", "stages", "drain", "watch", "detach"});
  CHECK(where(flow, OnFailure::stop_for_operator) == Strings{"post_migrate", "unfreeze", "terminate"});
  CHECK(flow.commits_migrations() == Step::post_migrate);
  CHECK_FALSE(flow.past_no_return(Step::post_migrate));
  CHECK(flow.past_no_return(Step::unfreeze));
  CHECK(flow.before_changes(Step::pre_migrate));
  CHECK(flow.rolls_back(Step::detach));
  CHECK_FALSE(flow.rolls_back(Step::rollback));
}

TEST_CASE("a maintenance cutover migrates behind the page and never rolls back past the commit", "[lbctl][step_table]") {
  Config config;
  config.mode = CutoverMode::maintenance;
  const auto flow = flow_for(config);
  CHECK(names(flow) == Strings{"preflight", "freeze", "maintenance_on", "backup", "migrate", "clone", "verify",
                               "attach", "detach", "maintenance_off", "unfreeze", "terminate"});
  CHECK(where(flow, OnFailure::roll_back) == Strings{"freeze", "maintenance_on", "backup", "migrate"});
  CHECK(flow.commits_migrations() == Step::migrate);
  CHECK(flow.past_no_return(Step::clone));
}

TEST_CASE("hooks sit where the config reference says", "[lbctl][step_table]") {
  Config blue_green;
  const auto bg = flow_for(blue_green);
  CHECK(bg.find(Step::attach)->before == HookPoint::before_attach);
  CHECK(bg.find(Step::attach)->after == HookPoint::after_attach);
  CHECK(bg.find(Step::drain)->before == HookPoint::before_drain);
  CHECK(bg.find(Step::detach)->after == HookPoint::after_detach);
  CHECK(bg.find(Step::post_migrate)->after == HookPoint::after_post_migrate);
  CHECK(bg.find(Step::terminate)->after == HookPoint::after_cutover);
  Config maintenance;
  maintenance.mode = CutoverMode::maintenance;
  const auto m = flow_for(maintenance);
  // The page up: workers that cache the schema stop; down: caches warm.
  CHECK(m.find(Step::maintenance_on)->after == HookPoint::before_drain);
  CHECK(m.find(Step::maintenance_off)->after == HookPoint::after_cutover);
  CHECK(m.find(Step::terminate)->after == HookPoint::none);
}

TEST_CASE("every step has a name that parses back, a description and, but rollback, a function", "[lbctl][step_table]") {
  for (const auto step : {Step::preflight, Step::backup, Step::pre_migrate, Step::freeze, Step::clone, Step::verify,
                          Step::attach, Step::stages, Step::drain, Step::watch, Step::detach, Step::post_migrate,
                          Step::unfreeze, Step::terminate, Step::rollback, Step::maintenance_on, Step::migrate,
                          Step::maintenance_off}) {
    INFO(to_string(step));
    CHECK(parse_step(to_string(step)) == step);
    CHECK_FALSE(describe(step).empty());
    CHECK((function_of(step) == nullptr) == (step == Step::rollback));
  }
  CHECK_FALSE(parse_step("attach ").has_value());
}

TEST_CASE("--help lists each mode's steps from the table", "[lbctl][step_table]") {
  CHECK(step_names(CutoverMode::blue_green) ==
        "preflight, backup, pre_migrate, freeze, clone, verify, attach, [stages], [promote], drain, watch, detach, "
        "[undo_window], post_migrate, unfreeze, terminate");
}
