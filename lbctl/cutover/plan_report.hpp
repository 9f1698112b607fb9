#pragma once
// Looking before leaping: reach every LB, the state database and the
// migrations database, work out the plan, and say what a cutover would do
// now. Changes nothing. The controller's preflight uses the same gathering.

#include <boost/asio/awaitable.hpp>
#include <expected>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "db/journal.hpp"
#include "db/migrator.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cutover/plan.hpp"
#include "lbctl/cutover/plan_files.hpp"
#include "pools/fleet.hpp"
#include "pools/provider.hpp"

namespace lbctl {

struct PlanReport {
  CutoverPlan plan;
  std::vector<LbState> lbs;
  std::map<std::string, std::vector<std::string>> migrations;  // "pre"/"post" -> pending files
  std::vector<FilePlan> files;  // the persisted configuration files
  std::vector<std::string> warnings;  // what lbctl cannot do or see with this config (config_warnings)
  std::vector<std::string> fleet_warnings;  // what it cannot see on the LBs (also in `warnings`)
  // The rule each new server's cookie comes from (`cookie VALUE` on `add
  // server`): new_pool.cookie, else "{name}" when every LB runs HAProxy 3.0 or
  // later and a backend keeps users with a cookie; "" for dynamic cookies (an
  // LB before 3.0) or none.
  std::string cookie_rule;
};

// Everything a cutover needs to know before it changes anything.
// `first_id` is the lowest id new servers may take (id_floor: ids are never
// reused); `release` names the new servers ({release}).
boost::asio::awaitable<std::expected<PlanReport, PlanFailure>> gather_plan(const Config& config, pools::Fleet& fleet,
                                                                           const pools::Provider& provider,
                                                                           db::Migrator* migrator,
                                                                           std::uint64_t first_id,
                                                                           std::string release);

// The lowest id new servers may take: above every id the service's earlier
// cutovers gave out (HAProxy reuses deleted servers' ids; stick tables fall
// back to ids, so lbctl never does). `exclude_cutover_id` is the running
// cutover's own row.
std::uint64_t id_floor(db::Journal& journal, const std::string& service, std::int64_t exclude_cutover_id);

// The runtime API commands a cutover would send to `lb`, built by the same
// functions the cutover sends them with (annotated where they wait).
std::vector<std::string> commands_for(const PlanReport& report, const Config& config, const LbState& lb);
// The health file the drain removes on `server`, as people find it.
std::string health_file_of(const Config& config, const pools::Server& server);

}  // namespace lbctl
