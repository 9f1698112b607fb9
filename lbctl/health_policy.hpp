#pragma once
// The config's health section as the health library's policy.

#include "health/policy.hpp"
#include "lbctl/config.hpp"

namespace lbctl {

health::CheckPolicy health_policy(const HealthConfig& config);

}  // namespace lbctl
