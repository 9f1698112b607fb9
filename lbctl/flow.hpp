#pragma once
// The order of a cutover's steps, per mode, and what a failure at each means:
// before any change, stop; in the rollback range, roll back by itself; after
// it, stop for an operator. Past the point of no return, abort is refused.
//
// blue_green:  preflight backup pre_migrate | freeze clone verify attach
//              [stages] drain watch detach | post_migrate unfreeze terminate
// maintenance: preflight | freeze maintenance_on backup migrate | clone
//              verify attach detach maintenance_off unfreeze terminate
//              (old code cannot run on the migrated schema: once the one
//              migration transaction commits, lbctl stops for an operator
//              rather than put the old pool back)

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lbctl/config.hpp"
#include "lbctl/cutover.hpp"

namespace lbctl {

struct Flow {
  std::vector<Step> steps;
  Step rollback_from;    // the first step whose failure rolls back
  Step rollback_to;      // the last one
  Step migrations_step;  // the step that commits migrations abort cannot undo

  std::size_t index_of(Step step) const;  // steps.size() when absent
  bool before_changes(Step step) const { return index_of(step) < index_of(rollback_from); }
  bool rolls_back(Step step) const {
    return index_of(step) >= index_of(rollback_from) && index_of(step) <= index_of(rollback_to);
  }
  // Past the migrations step: its migrations committed.
  bool past_no_return(Step step) const { return index_of(step) > index_of(migrations_step); }
};

Flow flow_for(const Config& config);

struct HookAt {
  std::optional<HookCommand> command;
  std::string name;
};

// The hook that runs before or after `step` in this config's mode (none: an
// empty command).
HookAt hook_before(const Config& config, Step step);
HookAt hook_after(const Config& config, Step step);

}  // namespace lbctl
