#pragma once
// Builds the HAProxy fleet the config describes: one LoadBalancer per
// load_balancers[] entry, each on its own runtime API socket, with its master
// CLI and its persisted configuration file when the config names them.

#include <functional>
#include <memory>

#include "core/clock.hpp"
#include "core/process.hpp"
#include "lbctl/config/config.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

// `processes` runs the persist commands (check, read, write); it must outlive the fleet.
// How each LB's runtime API client is made (the socket client itself, or
// serve's shared reads around it); empty: the socket client.
using RuntimeApiWrap =
    std::function<std::shared_ptr<pools::RuntimeApi>(const LoadBalancerConfig&, std::shared_ptr<pools::RuntimeApi>)>;
pools::Fleet make_fleet(const Config& config, Clock& clock, ProcessRunner& processes, const RuntimeApiWrap& wrap = {});

}  // namespace lbctl
