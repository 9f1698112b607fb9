#include "lbctl/flow.hpp"

#include <algorithm>

namespace lbctl {

std::size_t Flow::index_of(Step step) const {
  return static_cast<std::size_t>(std::find(steps.begin(), steps.end(), step) - steps.begin());
}

Flow flow_for(const Config& config) {
  if (config.mode == CutoverMode::maintenance) {
    return Flow{{Step::preflight, Step::freeze, Step::maintenance_on, Step::backup, Step::migrate, Step::clone,
                 Step::verify, Step::attach, Step::detach, Step::maintenance_off, Step::unfreeze, Step::terminate},
                Step::freeze,
                Step::migrate,
                Step::migrate};
  }
  Flow flow{{Step::preflight, Step::backup, Step::pre_migrate, Step::freeze, Step::clone, Step::verify, Step::attach},
            Step::freeze,
            Step::detach,
            Step::post_migrate};
  if (!config.stages.empty()) flow.steps.push_back(Step::stages);
  for (auto step : {Step::drain, Step::watch, Step::detach, Step::post_migrate, Step::unfreeze, Step::terminate}) {
    flow.steps.push_back(step);
  }
  return flow;
}

HookAt hook_before(const Config& config, Step step) {
  const auto& hooks = config.hooks;
  if (step == Step::attach) return {hooks.before_attach, "before_attach"};
  if (step == Step::drain) return {hooks.before_drain, "before_drain"};
  return {};
}

HookAt hook_after(const Config& config, Step step) {
  const auto& hooks = config.hooks;
  switch (step) {
    case Step::attach: return {hooks.after_attach, "after_attach"};
    case Step::detach: return {hooks.after_detach, "after_detach"};
    case Step::post_migrate:
    case Step::migrate: return {hooks.after_post_migrate, "after_post_migrate"};
    // Maintenance mode: the page is up, old code takes no work: stop the
    // workers (seed 002); once it is down, warm the caches.
    case Step::maintenance_on: return {hooks.before_drain, "before_drain"};
    case Step::maintenance_off: return {hooks.after_cutover, "after_cutover"};
    case Step::terminate:
      if (config.mode == CutoverMode::blue_green) return {hooks.after_cutover, "after_cutover"};
      return {};
    default: return {};
  }
}

}  // namespace lbctl
