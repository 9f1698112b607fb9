// Rollback: the old pool back in rotation first (health files restored or
// state ready, re-added where already detached, weights restored) and UP on
// every LB, then the new pool detached and terminated, then scaling
// unfrozen. Every action is an ensure, so an interrupted rollback resumes.

#include <fmt/format.h>
#include <unordered_map>

#include "core/async.hpp"
#include "lbctl/maintenance.hpp"
#include "lbctl/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

nlohmann::json lb_snapshot(const CutoverRun& run) {
  auto snapshot = nlohmann::json::parse(run.row.lb_snapshot_json.empty() ? "[]" : run.row.lb_snapshot_json, nullptr,
                                        false);
  return snapshot.is_array() ? snapshot : nlohmann::json::array();
}

// The old servers' weights as they were before the cutover, per LB.
std::vector<std::vector<std::pair<std::string, unsigned>>> original_weights(const CutoverRun& run) {
  std::vector<std::vector<std::pair<std::string, unsigned>>> per_lb(run.d.fleet.size());
  const auto snapshot = lb_snapshot(run);
  const auto old = run.old_names();
  for (std::size_t i = 0; i < run.d.fleet.size() && i < snapshot.size(); ++i) {
    for (const auto& s : snapshot[i].value("servers", nlohmann::json::array())) {
      const auto name = s.value("name", std::string());
      if (std::find(old.begin(), old.end(), name) == old.end()) continue;
      per_lb[i].emplace_back(name, s.value("user_weight", 1u));
    }
  }
  return per_lb;
}

// Where each old server stood on each LB before the cutover: the admin state
// an operator gave it (put back as it was, so a server taken out by hand
// stays out) and whether it was UP (only those are waited for: a server that
// was already DOWN would keep the rollback waiting for ever).
struct OldPoolBefore {
  std::vector<std::pair<std::string, pools::AdminTarget>> admin;  // the admin state to put back
  std::vector<std::string> up;  // UP before, ready again: wait for these
};

std::vector<OldPoolBefore> old_pool_before(const CutoverRun& run) {
  const auto snapshot = lb_snapshot(run);
  std::vector<OldPoolBefore> per_lb(run.d.fleet.size());
  for (std::size_t i = 0; i < per_lb.size(); ++i) {
    const auto servers = i < snapshot.size() ? snapshot[i].value("servers", nlohmann::json::array())
                                             : nlohmann::json::array();
    std::unordered_map<std::string, const nlohmann::json*> seen;
    for (const auto& s : servers) seen[s.value("name", "")] = &s;
    for (const auto& name : run.old_names()) {
      const auto it = seen.find(name);
      if (it == seen.end()) {  // no snapshot (an older journal): ready, and waited for
        per_lb[i].admin.emplace_back(name, pools::AdminTarget::ready);
        per_lb[i].up.push_back(name);
        continue;
      }
      const unsigned admin = it->second->value("admin_state", 0u);
      pools::ServerStat stat;
      stat.status = it->second->value("status", "");
      if (admin & pools::k_admin_forced_maint) {
        per_lb[i].admin.emplace_back(name, pools::AdminTarget::maint);
      } else if (admin & pools::k_admin_forced_drain) {
        per_lb[i].admin.emplace_back(name, pools::AdminTarget::drain);
      } else {
        per_lb[i].admin.emplace_back(name, pools::AdminTarget::ready);
        if (stat.is_up()) per_lb[i].up.push_back(name);
      }
    }
  }
  return per_lb;
}

asio::awaitable<Result<void>> old_pool_back(CutoverRun& run) {
  const auto names = run.old_names();
  const auto before = old_pool_before(run);
  // Servers already detached (a failure mid-detach) are added again.
  auto snapshots = co_await run.d.fleet.all<pools::BackendState>([](pools::LoadBalancer& lb) { return lb.snapshot(); });
  if (!snapshots) co_return std::unexpected(snapshots.error());
  std::uint64_t next_id = 0;
  for (const auto& s : *snapshots) next_id = std::max(next_id, s.max_id());
  for (const auto& s : run.new_servers) next_id = std::max(next_id, s.id);
  std::vector<pools::NewServer> readd;
  for (const auto& server : run.old_servers) {
    const bool missing = std::any_of(snapshots->begin(), snapshots->end(),
                                     [&](const pools::BackendState& b) { return b.stat(server.name) == nullptr; });
    if (missing) readd.push_back({server.name, server.address, ++next_id});
  }
  if (!readd.empty()) {
    if (auto prepared = co_await prepare_on_fleet(run, readd, Step::rollback); !prepared) co_return prepared;
    std::vector<std::vector<std::string>> readded(before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
      for (const auto& s : readd) {
        if (std::find(before[i].up.begin(), before[i].up.end(), s.name) != before[i].up.end()) {
          readded[i].push_back(s.name);
        }
      }
    }
    if (auto passed = co_await run.wait_fleet_per_lb(
            readded, [](const pools::ServerStat& s) { return s.check_passed(); }, "passing HAProxy's check",
            run.config().health.deadline, 200ms, Step::rollback, false);
        !passed) {
      co_return passed;
    }
  }
  if (run.progress.value("drain_started", false) && run.config().drain.method == DrainConfig::Method::health_file) {
    std::vector<asio::awaitable<Result<void>>> restores;
    for (const auto& server : run.old_servers) restores.push_back(run.d.provider.restore_health_file(server));
    auto restored = co_await when_all(std::move(restores));
    for (std::size_t i = 0; i < restored.size(); ++i) {
      if (!restored[i]) {
        co_return std::unexpected(restored[i].error().with_context("restore the health file of " + run.old_servers[i].name));
      }
    }
  }
  std::unordered_map<std::string, std::vector<std::pair<std::string, pools::AdminTarget>>> admin_by_lb;
  for (std::size_t i = 0; i < before.size(); ++i) admin_by_lb[run.d.fleet.at(i).name()] = before[i].admin;
  auto put_back = [&admin_by_lb](pools::LoadBalancer& lb) { return lb.ensure_states(admin_by_lb.at(lb.name())); };
  auto restored_states = co_await run.d.fleet.all<pools::Applied>(put_back);
  if (!restored_states) co_return std::unexpected(restored_states.error());
  run.emit_commands(Step::rollback, *restored_states);
  if (run.progress.value("weights_changed", false)) {
    const auto weights = original_weights(run);
    std::vector<asio::awaitable<Result<pools::Applied>>> resets;
    for (std::size_t i = 0; i < run.d.fleet.size(); ++i) resets.push_back(run.d.fleet.at(i).ensure_weight(weights[i]));
    for (auto& reset : co_await when_all(std::move(resets))) {
      if (!reset) co_return std::unexpected(reset.error());
    }
  }
  const auto inter = std::chrono::milliseconds(run.server_options.inter_ms.value_or(2000));
  const auto timeout = std::max(run.config().health.deadline, inter * 10);
  std::vector<std::vector<std::string>> waited;
  for (const auto& lb : before) waited.push_back(lb.up);
  if (auto up = co_await run.wait_fleet_per_lb(
          waited, [](const pools::ServerStat& s) { return s.is_fully_up(); }, "UP again", timeout,
          std::clamp(inter / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(500)), Step::rollback, false);
      !up) {
    co_return up;
  }
  run.record_servers(db::Pool::old_pool, "serving");
  std::string left_out;
  for (std::size_t i = 0; i < before.size(); ++i) {
    for (const auto& name : names) {
      if (std::find(before[i].up.begin(), before[i].up.end(), name) != before[i].up.end()) continue;
      left_out += fmt::format("{}{} on {}", left_out.empty() ? "" : ", ", name, run.d.fleet.at(i).name());
    }
  }
  run.emit(Step::rollback, "old_pool_up",
           fmt::format("old servers back as they were before the cutover: {}{}", fmt::join(names, ", "),
                       left_out.empty() ? "" : fmt::format(" (not UP before, so not waited for: {})", left_out)));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> new_pool_out(CutoverRun& run) {
  const auto names = run.new_names();
  const auto& drain = run.config().drain;
  const auto poll = std::min<std::chrono::milliseconds>(drain.poll, 1s);
  const auto timeout = drain.timeout;
  auto delete_gracefully = [names, timeout, poll](pools::LoadBalancer& lb) {
    return lb.ensure_deleted(names, timeout, poll);
  };
  auto deleted = co_await run.d.fleet.all<pools::Applied>(delete_gracefully);
  if (!deleted && deleted.error().kind == ErrorKind::timeout && drain.on_timeout == DrainConfig::OnTimeout::force) {
    auto cut = [names](pools::LoadBalancer& lb) { return lb.shutdown_sessions(names); };
    (void)co_await run.d.fleet.all<pools::Applied>(cut);
    auto delete_now = [names, poll](pools::LoadBalancer& lb) { return lb.ensure_deleted(names, 30s, poll); };
    deleted = co_await run.d.fleet.all<pools::Applied>(delete_now);
  }
  if (!deleted) co_return std::unexpected(deleted.error());
  run.record_servers(db::Pool::new_pool, "detached");
  std::vector<asio::awaitable<Result<void>>> terminations;
  const auto cloned = run.new_pool();
  for (const auto& server : cloned) terminations.push_back(run.d.provider.terminate(server));
  auto terminated = co_await when_all(std::move(terminations));
  for (std::size_t i = 0; i < terminated.size(); ++i) {
    if (!terminated[i]) co_return std::unexpected(terminated[i].error().with_context("terminate " + cloned[i].name));
  }
  run.record_servers(db::Pool::new_pool, "terminated");
  run.emit(Step::rollback, "new_pool_gone", fmt::format("new servers detached and terminated: {}", fmt::join(names, ", ")));
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> roll_back(CutoverRun& run) {
  if (auto back = co_await old_pool_back(run); !back) co_return back;
  if (auto out = co_await new_pool_out(run); !out) co_return out;
  if (run.progress.value("maintenance_on", false) && run.config().maintenance) {
    if (auto off = co_await maintenance_off(run.d.fleet, run.config().maintenance->map); !off) co_return off;
    run.progress["maintenance_on"] = false;
    if (auto saved = run.save(); !saved) co_return saved;
    run.emit(Step::rollback, "maintenance_off", "maintenance page off: the old servers take traffic again");
  }
  if (run.progress.value("frozen", false)) {
    auto unfrozen = co_await run.d.provider.unfreeze_scaling();
    if (!unfrozen) co_return std::unexpected(unfrozen.error().with_context("unfreeze scaling"));
    run.progress["frozen"] = false;
    if (auto saved = run.save(); !saved) co_return saved;
  }
  co_return Result<void>{};
}

}  // namespace lbctl
