#include "lbctl/cutover/step_table.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/enum_names.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace {

struct StepInfo {
  Step step;
  std::string_view name;
  StepFunction function;
  std::string_view what;
  // The step reaches the dependencies for the first time: an LB that does
  // not answer fails it at once, a failure's kind is the exit code (5
  // unreachable, 2 invalid), and no reload is looked for (nothing changed yet).
  bool first_contact = false;
  // Its reads of the fleet also ask whether a new server died (from attach
  // until detach: NewPoolLiveness).
  bool watches_new_pool = false;
  // What it left on the LBs, put back after a reload (reloads.cpp); the
  // steps done are re-ensured in the flow's order.
  ReensureFunction reensure = nullptr;
  // It waits on something that does not poll the journal (a provider's
  // clone, a backup): the run polls every 500 ms meanwhile, so the lease
  // holds and an abort is seen.
  bool keeps_polling = false;
};

constexpr StepInfo k_steps[] = {
    {.step = Step::preflight, .name = "preflight", .function = step_preflight,
     .what = "reach every LB, the provider and both databases; take the lock; snapshot the config and the LBs",
     .first_contact = true},
    {.step = Step::backup, .name = "backup", .function = step_backup,
     .what = "back up the application database when migrations are pending", .keeps_polling = true},
    {.step = Step::pre_migrate, .name = "pre_migrate", .function = step_pre_migrate,
     .what = "apply pre/ migrations (additive) in one transaction"},
    {.step = Step::freeze, .name = "freeze", .function = step_freeze,
     .what = "freeze scaling, so no old-version server appears mid-cutover"},
    {.step = Step::clone, .name = "clone", .function = step_clone, .what = "create the new servers",
     .keeps_polling = true},
    {.step = Step::verify, .name = "verify", .function = step_verify,
     .what = "check each new server directly (HTTP and database) while every LB adds it in MAINT"},
    {.step = Step::attach, .name = "attach", .function = step_attach,
     .what = "HAProxy's own check passed, make the new servers ready, wait until UP on every LB",
     .reensure = reensure_new_pool},
    {.step = Step::stages, .name = "stages", .function = step_stages,
     .what = "shift weight to the new pool in stages, gated on its 5xx ratio", .watches_new_pool = true},
    {.step = Step::promote, .name = "promote", .function = step_promote,
     .what = "promotion.mode manual: pause with both pools serving until `lbctl promote`, `lbctl abort` or a timer",
     .watches_new_pool = true},
    {.step = Step::drain, .name = "drain", .function = step_drain,
     .what = "take the old servers out of rotation; their sessions continue", .watches_new_pool = true,
     .reensure = reensure_drained},
    {.step = Step::watch, .name = "watch", .function = step_watch,
     .what = "wait until the old servers' sessions end on every LB (and old workers)", .watches_new_pool = true},
    {.step = Step::detach, .name = "detach", .function = step_detach, .what = "MAINT, then del server, on every LB",
     .reensure = reensure_detached},
    {.step = Step::undo_window, .name = "undo_window", .function = step_undo_window,
     .what = "promotion.undo_window: keep the old servers running and ready; `lbctl undo` puts them back"},
    {.step = Step::post_migrate, .name = "post_migrate", .function = step_post_migrate,
     .what = "apply post/ migrations (drops) in one transaction"},
    {.step = Step::unfreeze, .name = "unfreeze", .function = step_unfreeze, .what = "unfreeze scaling"},
    {.step = Step::terminate, .name = "terminate", .function = step_terminate,
     .what = "terminate the old servers after terminate.delay"},
    {.step = Step::rollback, .name = "rollback", .function = nullptr,
     .what = "the old pool back as it was, the new one detached and terminated"},
    {.step = Step::maintenance_on, .name = "maintenance_on", .function = step_maintenance_on,
     .what = "the 503 maintenance page on every LB", .reensure = reensure_maintenance_page},
    {.step = Step::migrate, .name = "migrate", .function = step_migrate,
     .what = "apply pre/ and post/ migrations in one transaction"},
    {.step = Step::maintenance_off, .name = "maintenance_off", .function = step_maintenance_off,
     .what = "the maintenance page off on every LB"},
};

const StepInfo& info(Step step) {
  return *std::find_if(std::begin(k_steps), std::end(k_steps), [step](const StepInfo& s) { return s.step == step; });
}

using enum OnFailure;

// The runbook release engineers follow by hand: prepare, bring the new pool in beside the old one,
// drain the old one, and only then contract the schema and let go.
const std::vector<FlowStep> k_blue_green = {
    {Step::preflight, stop},
    {Step::backup, stop},
    {Step::pre_migrate, stop},
    {Step::freeze, roll_back},
    {Step::clone, roll_back},
    {Step::verify, roll_back},
    {Step::attach, roll_back, HookPoint::before_attach, HookPoint::after_attach},
    {Step::stages, roll_back, HookPoint::none, HookPoint::none, false, FlowStep::Needs::stages},
    {Step::promote, roll_back, HookPoint::none, HookPoint::none, false, FlowStep::Needs::manual_promotion},
    {Step::drain, roll_back, HookPoint::before_drain},
    {Step::watch, roll_back},
    {Step::detach, roll_back, HookPoint::none, HookPoint::after_detach},
    // An undo (or an abort) in the window is a rollback: the old pool back, the new one out.
    {Step::undo_window, roll_back, HookPoint::none, HookPoint::none, false, FlowStep::Needs::undo_window},
    {Step::post_migrate, stop_for_operator, HookPoint::none, HookPoint::after_post_migrate, true},
    {Step::unfreeze, stop_for_operator},
    {Step::terminate, stop_for_operator, HookPoint::none, HookPoint::after_cutover},
};

// For schema changes old code cannot survive, the page goes up,
// both phases commit in one transaction, the pools swap behind it. Once the
// migrations commit the old code cannot serve again: stop, never roll back.
// The page up is when workers that cache the schema stop (before_drain);
// once it is down, caches warm (after_cutover).
const std::vector<FlowStep> k_maintenance = {
    {Step::preflight, stop},
    {Step::freeze, roll_back},
    {Step::maintenance_on, roll_back, HookPoint::none, HookPoint::before_drain},
    {Step::backup, roll_back},
    {Step::migrate, roll_back, HookPoint::none, HookPoint::after_post_migrate, true},
    {Step::clone, stop_for_operator},
    {Step::verify, stop_for_operator},
    {Step::attach, stop_for_operator, HookPoint::before_attach, HookPoint::after_attach},
    {Step::detach, stop_for_operator, HookPoint::none, HookPoint::after_detach},
    {Step::maintenance_off, stop_for_operator, HookPoint::none, HookPoint::after_cutover},
    {Step::unfreeze, stop_for_operator},
    {Step::terminate, stop_for_operator},
};

constexpr auto k_hook_points = enum_names<HookPoint>({
    {HookPoint::none, ""},
    {HookPoint::before_attach, "before_attach"},
    {HookPoint::after_attach, "after_attach"},
    {HookPoint::before_drain, "before_drain"},
    {HookPoint::after_detach, "after_detach"},
    {HookPoint::after_post_migrate, "after_post_migrate"},
    {HookPoint::after_cutover, "after_cutover"},
});

const std::vector<FlowStep>& rows_of(CutoverMode mode) {
  return mode == CutoverMode::maintenance ? k_maintenance : k_blue_green;
}

}  // namespace

std::string_view to_string(Step step) { return info(step).name; }

std::optional<Step> parse_step(std::string_view text) {
  for (const auto& s : k_steps) {
    if (s.name == text) return s.step;
  }
  return std::nullopt;
}

StepFunction function_of(Step step) { return info(step).function; }
ReensureFunction reensure_of(Step step) { return info(step).reensure; }
bool first_contact(Step step) { return info(step).first_contact; }
bool watches_new_pool(Step step) { return info(step).watches_new_pool; }
bool keeps_polling(Step step) { return info(step).keeps_polling; }
std::string_view describe(Step step) { return info(step).what; }

std::size_t Flow::index_of(Step step) const {
  return static_cast<std::size_t>(
      std::find_if(steps.begin(), steps.end(), [step](const FlowStep& s) { return s.step == step; }) - steps.begin());
}

const FlowStep* Flow::find(Step step) const {
  const auto i = index_of(step);
  return i < steps.size() ? &steps[i] : nullptr;
}

bool Flow::before_changes(Step step) const {
  const auto* s = find(step);
  return s != nullptr && s->on_failure == OnFailure::stop;
}

bool Flow::rolls_back(Step step) const {
  const auto* s = find(step);
  return s != nullptr && s->on_failure == OnFailure::roll_back;
}

Step Flow::commits_migrations() const {
  const auto it = std::find_if(steps.begin(), steps.end(), [](const FlowStep& s) { return s.commits_migrations; });
  return it == steps.end() ? steps.back().step : it->step;
}

bool Flow::past_no_return(Step step) const { return index_of(step) > index_of(commits_migrations()); }

namespace {

bool has(const Config& config, FlowStep::Needs needs) {
  switch (needs) {
    case FlowStep::Needs::nothing: return true;
    case FlowStep::Needs::stages: return !config.stages.empty();
    case FlowStep::Needs::manual_promotion: return config.promotion.manual();
    case FlowStep::Needs::undo_window: return config.promotion.undo_window.count() > 0;
  }
  return true;
}

}  // namespace

std::optional<std::string> missing_from_flow(std::string_view name, const Config& config) {
  const auto step = parse_step(name);
  if (!step) return fmt::format("`{}` is not a step this lbctl knows (the cutover was started by another version)", name);
  if (*step == Step::rollback || flow_for(config).find(*step) != nullptr) return std::nullopt;
  const auto& rows = rows_of(config.mode);
  const auto row = std::find_if(rows.begin(), rows.end(), [&](const FlowStep& r) { return r.step == *step; });
  if (row == rows.end()) {
    return fmt::format("the config's mode is {}, and step {} belongs to mode {}", to_string(config.mode), name,
                       config.mode == CutoverMode::maintenance ? "blue_green" : "maintenance");
  }
  switch (row->needs) {
    case FlowStep::Needs::stages: return std::string("the config has no stages: any more");
    case FlowStep::Needs::manual_promotion: return std::string("the config's promotion.mode is no longer manual");
    case FlowStep::Needs::undo_window: return std::string("the config's promotion.undo_window is no longer set");
    case FlowStep::Needs::nothing: break;
  }
  return std::nullopt;
}

std::vector<std::string> flow_step_names(const Config& config) {
  std::vector<std::string> names;
  for (const auto& row : flow_for(config).steps) names.emplace_back(to_string(row.step));
  return names;
}

Flow flow_for(const Config& config) {
  Flow flow;
  for (const auto& row : rows_of(config.mode)) {
    if (has(config, row.needs)) flow.steps.push_back(row);
  }
  return flow;
}

Flow flow_with(const Config& config, Step journaled) {
  Flow flow;
  for (const auto& row : rows_of(config.mode)) {
    if (has(config, row.needs) || row.step == journaled) flow.steps.push_back(row);
  }
  return flow;
}

std::string step_names(CutoverMode mode) {
  std::vector<std::string> names;
  for (const auto& row : rows_of(mode)) {
    const auto name = std::string(to_string(row.step));
    names.push_back(row.needs != FlowStep::Needs::nothing ? "[" + name + "]" : name);
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string_view to_string(HookPoint point) { return k_hook_points.name(point); }

std::optional<HookCommand> hook_command(const Config& config, HookPoint point) {
  const auto& hooks = config.hooks;
  switch (point) {
    case HookPoint::none: return std::nullopt;
    case HookPoint::before_attach: return hooks.before_attach;
    case HookPoint::after_attach: return hooks.after_attach;
    case HookPoint::before_drain: return hooks.before_drain;
    case HookPoint::after_detach: return hooks.after_detach;
    case HookPoint::after_post_migrate: return hooks.after_post_migrate;
    case HookPoint::after_cutover: return hooks.after_cutover;
  }
  return std::nullopt;
}

}  // namespace lbctl
