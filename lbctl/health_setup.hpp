#pragma once
// Maps the config's `health` section to the health checker's policy.

#include "health/policy.hpp"
#include "lbctl/config.hpp"

namespace lbctl {

health::CheckPolicy to_check_policy(const HealthConfig& config);

}  // namespace lbctl
