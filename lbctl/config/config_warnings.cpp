// What a valid config still leaves lbctl unable to do or see.

#include <fmt/format.h>

#include "lbctl/config/config.hpp"

namespace lbctl {

std::vector<std::string> config_warnings(const Config& config) {
  std::vector<std::string> unpersisted;
  std::vector<std::string> unseen;
  std::vector<std::string> map_unpersisted;
  for (const auto& lb : config.load_balancers) {
    if (!lb.persist) unpersisted.push_back(lb.name);
    else if (config.maintenance && !lb.persist->carries_any_file()) map_unpersisted.push_back(lb.name);
    if (!lb.master_api) unseen.push_back(lb.name);
  }
  std::vector<std::string> warnings;
  if (!unpersisted.empty()) {
    warnings.push_back(fmt::format(
        "{} {} no persist: what lbctl changes there lives only in HAProxy's memory, so a reload or restart would "
        "undo a cutover (the old servers back, the new ones gone). Give load_balancers[].persist (the haproxy.cfg "
        "holding the backend) so lbctl rewrites its server lines after every change",
        fmt::join(unpersisted, ", "), unpersisted.size() == 1 ? "has" : "have"));
  }
  if (!unseen.empty()) {
    warnings.push_back(fmt::format(
        "{} {} no master_api: after a reload, the sessions an old HAProxy worker still serves on the old servers "
        "are not seen, so lbctl could detach and terminate those servers while they finish requests. Give "
        "load_balancers[].master_api (HAProxy's master CLI, `-S`)",
        fmt::join(unseen, ", "), unseen.size() == 1 ? "has" : "have"));
  }
  if (!map_unpersisted.empty()) {
    warnings.push_back(fmt::format(
        "{}: the maintenance map is not persisted (persist.read and write do not name {{file}}), so a reload "
        "would drop or bring back the maintenance page",
        fmt::join(map_unpersisted, ", ")));
  }
  if (config.analysis) {
    const auto interval = config.analysis->interval;
    std::vector<std::string> short_holds;
    bool held = false;
    for (std::size_t i = 0; i < config.stages.size(); ++i) {
      if (config.stages[i].hold >= interval) held = true;
      else short_holds.push_back(std::to_string(i + 1));
    }
    if (!held && !config.promotion.manual() && config.promotion.undo_window.count() <= 0) {
      warnings.push_back(
          "analysis never runs: it measures during a stage's hold (of at least analysis.interval), a manual promotion "
          "pause or the undo window, and this config has none of them");
    } else if (!short_holds.empty()) {
      warnings.push_back(fmt::format("analysis: stage{} {} hold{} less than analysis.interval, so {} not analysed",
                                     short_holds.size() == 1 ? "" : "s", fmt::join(short_holds, ", "),
                                     short_holds.size() == 1 ? "s" : "", short_holds.size() == 1 ? "it is" : "they are"));
    }
  }
  return warnings;
}

}  // namespace lbctl
