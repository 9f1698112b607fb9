#pragma once
// The persisted configuration files, looked at before a cutover changes
// anything: each LB's file parses and holds the backend, its check passes,
// and it says what the live backend holds (a file edited but not yet
// reloaded is not overwritten); and what a cutover would write to it.

#include <boost/asio/awaitable.hpp>
#include <expected>
#include <string>
#include <vector>

#include "lbctl/config/config.hpp"
#include "lbctl/cutover/plan.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

struct FilePlan {
  std::string lb;
  std::string file;  // as the store describes it
  std::string diff;  // what the cutover would write, once it has completed ("" = nothing)
  bool checked = false;  // a check command validates each rewrite
};

// Fails (invalid) naming the LB, the file and what is wrong.
boost::asio::awaitable<std::expected<std::vector<FilePlan>, PlanFailure>> gather_files(
    pools::Fleet& fleet, const std::vector<LbState>& lbs, const CutoverPlan& plan);

}  // namespace lbctl
