#pragma once
// Builds the HAProxy fleet the config describes: one LoadBalancer per
// load_balancers[] entry, each on its own runtime API socket.

#include <memory>

#include "core/clock.hpp"
#include "lbctl/config.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

pools::RuntimeApiEndpoint to_endpoint(const RuntimeApiAddress& address);

pools::Fleet make_fleet(const Config& config, Clock& clock);

}  // namespace lbctl
