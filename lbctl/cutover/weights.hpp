#pragma once
// Per-server weights that give the new pool a share of a backend's traffic.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace lbctl {

struct StageWeights {
  unsigned new_weight = 1;
  unsigned old_weight = 1;
};

// Weights (0-256) so that new_count x new / (new_count x new + old_count x
// old) is as close as HAProxy's integer weights allow to percent / 100.
// 100% gives the old servers weight 0; any share above 0 keeps new >= 1.
StageWeights stage_weights(int percent, std::size_t old_count, std::size_t new_count);

// Each named server with its pool's weight.
std::vector<std::pair<std::string, unsigned>> weight_targets(const StageWeights& weights,
                                                             const std::vector<std::string>& old_names,
                                                             const std::vector<std::string>& new_names);

}  // namespace lbctl
