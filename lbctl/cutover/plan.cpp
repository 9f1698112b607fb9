#include "lbctl/cutover/plan.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fnmatch.h>
#include <set>

#include "core/names.hpp"

namespace lbctl {

namespace {

std::expected<CutoverPlan, PlanError> refuse(PlanProblem problem, std::string message) {
  return std::unexpected(PlanError{problem, std::move(message)});
}

std::size_t count_up(const pools::BackendState& state, const std::set<std::string>& among) {
  return static_cast<std::size_t>(std::count_if(state.stats.begin(), state.stats.end(), [&](const pools::ServerStat& s) {
    return among.contains(s.name) && s.is_up();
  }));
}

// Why discovery leaves `s` out of the old pool, if it does.
std::optional<std::string> left_out_because(const OldPoolConfig& pool, const pools::ServerStat& s) {
  if (s.backup) return std::string("backup server");
  if (s.name == pools::LoadBalancer::k_probe_server) return std::string("the name lbctl reserves for its throwaway server");
  for (const auto& pattern : pool.exclude) {
    if (::fnmatch(pattern.c_str(), s.name.c_str(), 0) == 0) return "old_pool.exclude: " + pattern;
  }
  return std::nullopt;
}

std::optional<PlanError> problem(PlanProblem kind, std::string message) { return PlanError{kind, std::move(message)}; }

// The old pool: configured, or the first LB's backend as it is now (less
// what discovery leaves out).
std::optional<PlanError> find_old_pool(const Config& config, const std::vector<LbState>& lbs, CutoverPlan& plan) {
  if (!config.old_pool.discover) {
    for (const auto& s : config.old_pool.servers) plan.old_servers.push_back({s.name, s.address});
    return std::nullopt;
  }
  for (const auto& s : lbs.front().state.stats) {
    if (auto why = left_out_because(config.old_pool, s)) plan.left_out.push_back({s.name, *why});
    else plan.old_servers.push_back({s.name, s.address});
  }
  if (!plan.old_servers.empty()) return std::nullopt;
  return problem(PlanProblem::state,
                 fmt::format("{}: backend {} has no servers to replace (old_pool.discover{})", lbs.front().lb,
                             lbs.front().backend, plan.left_out.empty() ? "" : "; every server is a backup or excluded"));
}

// Every LB must carry the same old pool: a cutover changes them together.
std::optional<PlanError> check_old_pool_everywhere(const Config& config, const std::vector<LbState>& lbs,
                                                   const CutoverPlan& plan) {
  for (const auto& lb : lbs) {
    for (const auto& old : plan.old_servers) {
      const auto* stat = lb.state.stat(old.name);
      if (stat == nullptr) {
        return problem(PlanProblem::state, fmt::format("{}: backend {} has no server {} (the old pool must be on every "
                                                       "load balancer)",
                                                       lb.lb, lb.backend, old.name));
      }
      if (stat->address != old.address) {
        return problem(PlanProblem::state, fmt::format("{}: server {} has address {}, but {} says {}", lb.lb, old.name,
                                                       stat->address,
                                                       config.old_pool.discover ? lbs.front().lb : "the config",
                                                       old.address));
      }
    }
  }
  return std::nullopt;
}

// The new servers' names: the prefix (with the release) and 1..count, none
// too long, none an old server's or a name an LB already has.
std::optional<PlanError> name_new_pool(const Config& config, const std::vector<LbState>& lbs, std::size_t count,
                                       const std::set<std::string>& old_names, CutoverPlan& plan) {
  const std::string_view release = plan.release;
  const std::string prefix = expand_release(config.new_pool.name_prefix, release);
  const bool per_release = config.new_pool.name_prefix.find(k_release_placeholder) != std::string::npos;
  for (std::size_t i = 1; i <= count; ++i) plan.new_names.push_back(fmt::format("{}{}", prefix, i));
  for (const auto& name : plan.new_names) {
    if (name.size() > k_max_name_length) {
      return problem(PlanProblem::config, fmt::format("new server name {} is longer than {} characters{}", name,
                                                      k_max_name_length,
                                                      per_release ? ": choose a shorter --release or name_prefix" : ""));
    }
    if (old_names.contains(name)) {
      return problem(PlanProblem::config,
                     per_release
                         ? fmt::format("new_pool.name_prefix: new server {} has the name of an old server: release {} "
                                       "is the one deployed; give this release another name (--release)",
                                       name, release)
                         : fmt::format("new_pool.name_prefix: new server {} has the name of an old server; choose "
                                       "another prefix (e.g. the next version's), or put {{release}} in it",
                                       name));
    }
    for (const auto& lb : lbs) {
      if (lb.state.stat(name) != nullptr) {
        return problem(PlanProblem::config,
                       fmt::format("new_pool.name_prefix: {} already has a server named {} in backend {}; choose "
                                   "another prefix",
                                   lb.lb, name, lb.backend));
      }
    }
  }
  return std::nullopt;
}

// Capacity: servers taking traffic on each LB at each step, never below min_healthy.
std::optional<PlanError> plan_capacity(const Config& config, const std::vector<LbState>& lbs, std::size_t count,
                                       const std::set<std::string>& old_names, CutoverPlan& plan) {
  CapacityStep now{"now", {}}, attached{"after attach", {}}, drained{"during drain", {}}, done{"after detach", {}};
  for (const auto& lb : lbs) {
    const std::size_t up = count_up(lb.state, old_names);
    now.up_per_lb.push_back(up);
    attached.up_per_lb.push_back(up + count);
    drained.up_per_lb.push_back(count);
    done.up_per_lb.push_back(count);
    if (up < static_cast<std::size_t>(config.min_healthy)) {
      return problem(PlanProblem::state,
                     fmt::format("{}: only {} old servers are UP, fewer than min_healthy {}; a cutover would start "
                                 "below it",
                                 lb.lb, up, config.min_healthy));
    }
  }
  if (count < static_cast<std::size_t>(config.min_healthy)) {
    return problem(PlanProblem::config,
                   fmt::format("new_pool.count {} is below min_healthy {}: the drain would leave fewer servers UP",
                               count, config.min_healthy));
  }
  plan.capacity = {now, attached, drained, done};
  return std::nullopt;
}

}  // namespace

std::expected<CutoverPlan, PlanError> make_plan(const Config& config, const std::vector<LbState>& lbs,
                                                std::uint64_t min_id, std::string_view release) {
  CutoverPlan plan;
  plan.min_healthy = config.min_healthy;
  std::string parse_problem;
  auto options = pools::parse_server_options(config.new_pool.server_options, &parse_problem);
  if (!options) return refuse(PlanProblem::config, "new_pool.server_options: " + parse_problem);
  plan.options = *options;
  if (lbs.empty()) return refuse(PlanProblem::config, "no load balancers");
  if (auto refused = find_old_pool(config, lbs, plan)) return std::unexpected(std::move(*refused));
  if (auto refused = check_old_pool_everywhere(config, lbs, plan)) return std::unexpected(std::move(*refused));
  std::set<std::string> old_names;
  for (const auto& s : plan.old_servers) old_names.insert(s.name);
  const std::size_t count =
      config.new_pool.count ? static_cast<std::size_t>(*config.new_pool.count) : plan.old_servers.size();
  plan.release = std::string(release);
  if (auto refused = name_new_pool(config, lbs, count, old_names, plan)) return std::unexpected(std::move(*refused));
  std::uint64_t max_id = min_id == 0 ? 0 : min_id - 1;
  for (const auto& lb : lbs) max_id = std::max(max_id, lb.state.max_id());
  plan.first_id = max_id + 1;
  if (auto refused = plan_capacity(config, lbs, count, old_names, plan)) return std::unexpected(std::move(*refused));
  return plan;
}

}  // namespace lbctl
