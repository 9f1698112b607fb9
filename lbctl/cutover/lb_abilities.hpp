#pragma once
// What each LB of the fleet can do, judged before the first change (plan and
// the preflight): a socket at level admin, an algorithm that takes servers at
// runtime, HTTP checks for drain.method health_file, cookies new servers can
// get; how each backend keeps users on their server, and what lbctl does
// about it.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lbctl/config/config.hpp"
#include "lbctl/cutover/plan_report.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

// What each LB can do (socket level, algorithm, persistence), checked; the
// fleet's cookie rule and each LB's persistence into `report`, warnings into
// `lb_warnings`. A failure names the LB and what to change.
std::optional<PlanFailure> check_abilities(const Config& config, pools::Fleet& fleet,
                                           const std::vector<pools::PerLb<pools::LoadBalancer::Abilities>>& abilities,
                                           PlanReport& report, std::vector<std::string>& lb_warnings);

// drain.idle unset while a backend keeps users: how many the drain would cut.
boost::asio::awaitable<std::optional<std::string>> sticky_users_warning(
    const Config& config, pools::LoadBalancer& lb, const pools::LoadBalancer::Abilities& abilities,
    const LbState& state, std::vector<pools::Server> old_servers);

}  // namespace lbctl
