#pragma once
// What a step is, in one place: its name, its function and what it does; and,
// per mode, the order the steps run in, what a failure at each means and the
// hooks around it. Each mode's rows, read top to bottom, are its runbook.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lbctl/cutover/step.hpp"

namespace lbctl {

class CutoverRun;
using StepFunction = boost::asio::awaitable<Result<void>> (*)(CutoverRun&);
// Whether a step of the flow ran before the one running now.
using DoneBefore = std::function<bool(Step)>;
// What a step left on the LBs, put back after a reload or a restart while
// `current` runs (without persistence a reload loses every runtime change;
// with it, admin DRAIN states). An ensure: when nothing was lost it reads.
using ReensureFunction = boost::asio::awaitable<Result<void>> (*)(CutoverRun&, Step current, const DoneBefore& done);

// What a failure at a step means.
enum class OnFailure {
  stop,               // nothing on the load balancers changed yet: stop (pre-migrations, additive, stay)
  roll_back,          // the old pool comes back by itself, the new one goes
  stop_for_operator,  // the old servers are gone, or migrations old code cannot run on committed
};

// Where the config's hooks run.
enum class HookPoint { none, before_attach, after_attach, before_drain, after_detach, after_post_migrate, after_cutover };

struct FlowStep {
  Step step;
  OnFailure on_failure;
  HookPoint before = HookPoint::none;
  HookPoint after = HookPoint::none;
  bool commits_migrations = false;  // past it, abort cannot undo the migrations
  // What the config must have for the step to run.
  enum class Needs { nothing, stages, manual_promotion, undo_window };
  Needs needs = Needs::nothing;
};

// The steps of one config's mode, in order.
struct Flow {
  std::vector<FlowStep> steps;

  std::size_t index_of(Step step) const;  // steps.size() when absent
  const FlowStep* find(Step step) const;
  bool before_changes(Step step) const;
  bool rolls_back(Step step) const;
  // Past the step that commits the migrations: abort is refused.
  bool past_no_return(Step step) const;
  Step commits_migrations() const;
  Step last() const { return steps.back().step; }
};

Flow flow_for(const Config& config);
// flow_for(config), with the row of `journaled` put back when the config no
// longer has it (its stages: removed since): what that step meant when the
// cutover ran it, for an abort to roll it back rightly.
Flow flow_with(const Config& config, Step journaled);
// Why `step` (a journaled step name) is not in flow_for(config): the config
// key that would put it there ("stages:", "promotion.mode manual", ...), or
// the other mode; nullopt when it is in the flow, or is `rollback`.
std::optional<std::string> missing_from_flow(std::string_view step, const Config& config);
// The names of flow_for(config)'s steps, in order.
std::vector<std::string> flow_step_names(const Config& config);

// The step's function (nullptr for rollback, which the controller drives).
StepFunction function_of(Step step);
// What the step left on the LBs, put back after a reload; nullptr when it
// leaves nothing a reload takes away (or the next step's ensure covers it).
ReensureFunction reensure_of(Step step);
// The step reaches the dependencies for the first time (preflight): an LB
// that does not answer fails it at once, its failure's kind is the exit
// code, and no reload is looked for.
bool first_contact(Step step);
// The step's reads of the fleet also ask whether a new server died.
bool watches_new_pool(Step step);
// The step waits on something that does not poll the journal (a clone, a
// backup): the run polls every 500 ms while it runs.
bool keeps_polling(Step step);
// One line: what the step does, for --help and plan.
std::string_view describe(Step step);
// "preflight, backup, ..., terminate": a mode's steps, [stages] marked optional.
std::string step_names(CutoverMode mode);

std::string_view to_string(HookPoint point);
// The hook the config sets at `point`; nullopt when none.
std::optional<HookCommand> hook_command(const Config& config, HookPoint point);

}  // namespace lbctl
