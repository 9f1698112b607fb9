#pragma once
// What a cutover will do, worked out before anything changes: the old pool as
// every LB sees it, the new servers' names and ids, the HAProxy commands per
// LB, the health files to remove, and the capacity at each step. The same plan
// drives `lbctl plan` (printed) and `lbctl cutover` (executed).

#include <string>
#include <vector>

#include "core/error.hpp"
#include "lbctl/config/config.hpp"
#include "pools/load_balancer.hpp"
#include "pools/server.hpp"
#include "pools/server_options.hpp"

namespace lbctl {

struct LbState {
  std::string lb;
  std::string backend;
  pools::BackendState state;
  std::string version{};  // the HAProxy version its `show info` gave ("" when not said)
  // How its backend keeps users on their server ("cookie SRV insert indirect
  // nocache", "stick table app (12 entries)", ...) and what lbctl does about
  // it; empty when it keeps none.
  std::vector<std::string> persistence{};
  std::vector<std::string> persistence_plan{};
  bool dynamic_cookies = false;  // lbctl sends `enable dynamic-cookie backend B` after adding servers
};

struct CapacityStep {
  std::string step;
  std::vector<std::size_t> up_per_lb;  // servers taking traffic, in fleet order
};

// A server of the backend that discovery left out of the old pool, and why:
// "backup server" or "old_pool.exclude: PATTERN". lbctl never touches it.
struct LeftOut {
  std::string name;
  std::string why;
};

struct CutoverPlan {
  std::vector<pools::Server> old_servers;
  std::vector<LeftOut> left_out;
  std::vector<std::string> new_names;
  std::string release;  // what the new servers' names were made for
  std::uint64_t first_id = 0;  // new server i gets first_id + i
  pools::ServerOptions options;
  int min_healthy = 1;
  std::vector<CapacityStep> capacity;

  std::uint64_t id_of(std::size_t i) const { return first_id + i; }
};

enum class PlanProblem {
  config,  // the config cannot work with this fleet: exit 2
  state,   // the fleet is not in a state to start from: exit 1
};

// Why a plan could not be made, with the exit code's kind: unreachable
// (exit 5), invalid (2), refused (1).
struct PlanFailure {
  ErrorKind kind;
  std::string message;
};

struct PlanError {
  PlanProblem problem;
  std::string message;
};

// Works out the plan from the config and every LB's current backend state
// (fleet order). `min_id` is the lowest id the new servers may take (above
// every id the service ever used). Refuses a plan that would break
// min_healthy, names that collide with servers already in a backend, an old
// pool that differs between LBs, and a discovered pool that is empty.
// `release` fills {release} in new_pool.name_prefix.
std::expected<CutoverPlan, PlanError> make_plan(const Config& config, const std::vector<LbState>& lbs,
                                                std::uint64_t min_id, std::string_view release = {});


}  // namespace lbctl
