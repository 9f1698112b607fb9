#include "lbctl/cutover/weights.hpp"

#include <algorithm>
#include <cmath>

namespace lbctl {

StageWeights stage_weights(int percent, std::size_t old_count, std::size_t new_count) {
  percent = std::clamp(percent, 0, 100);
  if (percent == 100 || old_count == 0) return {1, 0};
  if (percent == 0 || new_count == 0) return {0, 1};
  // The ratio new:old per server is p x old_count : (100 - p) x new_count;
  // scale it into HAProxy's 1-256.
  const double w_new = static_cast<double>(percent) * static_cast<double>(old_count);
  const double w_old = static_cast<double>(100 - percent) * static_cast<double>(new_count);
  const double scale = 256.0 / std::max(w_new, w_old);
  StageWeights weights;
  weights.new_weight = static_cast<unsigned>(std::max(1.0, std::round(w_new * scale)));
  weights.old_weight = static_cast<unsigned>(std::max(1.0, std::round(w_old * scale)));
  return weights;
}

std::vector<std::pair<std::string, unsigned>> weight_targets(const StageWeights& weights,
                                                             const std::vector<std::string>& old_names,
                                                             const std::vector<std::string>& new_names) {
  std::vector<std::pair<std::string, unsigned>> targets;
  for (const auto& name : old_names) targets.emplace_back(name, weights.old_weight);
  for (const auto& name : new_names) targets.emplace_back(name, weights.new_weight);
  return targets;
}

}  // namespace lbctl
