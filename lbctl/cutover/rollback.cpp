// Rollback: the old pool back in rotation first (re-added where already
// detached, health files restored, admin states and weights as preflight
// found them) and UP on every LB, then the new pool detached and terminated,
// then the page off and scaling unfrozen. Every action is an ensure, so an
// interrupted rollback resumes.

#include <fmt/format.h>
#include <map>
#include <unordered_map>

#include "lbctl/cutover/maintenance.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Where each old server stood on one LB before the cutover: the admin state
// an operator gave it (put back as it was, so a server taken out by hand
// stays out), its weight, and whether it was UP (only those are waited for: a
// server that was already DOWN would keep the rollback waiting for ever).
struct OldPoolBefore {
  std::vector<std::pair<std::string, pools::AdminTarget>> admin;
  std::vector<std::pair<std::string, unsigned>> weights;
  std::vector<std::string> up;
};

OldPoolBefore before_on(const CutoverRun& run, const LbSnapshot* snapshot) {
  OldPoolBefore before;
  for (const auto& name : run.old_names()) {
    const auto* seen = snapshot ? snapshot->find(name) : nullptr;
    if (seen == nullptr) {  // no snapshot (an older journal): ready, and waited for
      before.admin.emplace_back(name, pools::AdminTarget::ready);
      before.up.push_back(name);
      continue;
    }
    before.weights.emplace_back(name, static_cast<unsigned>(seen->user_weight));
    pools::ServerStat stat;
    stat.status = seen->status;
    if (seen->admin_state & pools::k_admin_forced_maint) {
      before.admin.emplace_back(name, pools::AdminTarget::maint);
    } else if (seen->admin_state & pools::k_admin_forced_drain) {
      before.admin.emplace_back(name, pools::AdminTarget::drain);
    } else {
      before.admin.emplace_back(name, pools::AdminTarget::ready);
      if (stat.is_up()) before.up.push_back(name);
    }
  }
  return before;
}

std::vector<OldPoolBefore> old_pool_before(const CutoverRun& run, pools::Fleet& fleet) {
  const auto snapshot = read_lb_snapshot(run.row().lb_snapshot_json);
  std::vector<OldPoolBefore> per_lb;
  for (std::size_t i = 0; i < fleet.size(); ++i) per_lb.push_back(before_on(run, i < snapshot.size() ? &snapshot[i] : nullptr));
  return per_lb;
}

// The id an old server had before the cutover, when it had the same one on
// every LB and none of them uses it now (stick tables keep server ids: its
// sessions come back to it); else 0.
std::uint64_t old_id(const std::vector<LbSnapshot>& before, const std::vector<pools::BackendState>& now,
                     const std::string& name) {
  std::uint64_t id = 0;
  for (const auto& lb : before) {
    const auto* seen = lb.find(name);
    if (seen == nullptr || seen->id == 0 || (id != 0 && seen->id != id)) return 0;
    id = seen->id;
  }
  for (const auto& lb : now) {
    if (std::any_of(lb.stats.begin(), lb.stats.end(), [id](const pools::ServerStat& s) { return s.id == id; })) return 0;
  }
  return id;
}

// Old servers already detached (a failure mid-detach, or an undo after
// promotion) come back with their old ids where they are free, checked
// before they take traffic.
asio::awaitable<Result<void>> readd_detached(CutoverRun& run, const std::vector<OldPoolBefore>& before) {
  auto snapshots = co_await run.fleet().all<pools::BackendState>([](pools::LoadBalancer& lb) { return lb.snapshot(); });
  if (!snapshots) co_return std::unexpected(snapshots.error());
  const auto preflight = read_lb_snapshot(run.row().lb_snapshot_json);
  std::uint64_t next_id = 0;
  for (const auto& s : *snapshots) next_id = std::max(next_id, s.max_id());
  for (const auto& s : run.progress().new_pool) next_id = std::max(next_id, s.id);
  for (const auto& lb : preflight) {
    for (const auto& s : lb.servers) next_id = std::max(next_id, s.id);
  }
  std::vector<pools::NewServer> readd;
  for (const auto& server : run.progress().old_pool) {
    const bool missing = std::any_of(snapshots->begin(), snapshots->end(),
                                     [&](const pools::BackendState& b) { return b.stat(server.name) == nullptr; });
    // Re-added by a rollback killed before it enabled the checks: present,
    // but unchecked where preflight saw it checked. Prepared again (an
    // ensure), so it passes HAProxy's check before it takes traffic.
    bool unchecked = false;
    for (std::size_t i = 0; i < snapshots->size() && i < preflight.size(); ++i) {
      const auto* now = (*snapshots)[i].stat(server.name);
      const auto* was = preflight[i].find(server.name);
      if (now != nullptr && was != nullptr && now->check_status.empty() && was->status != "no check") unchecked = true;
    }
    if (!missing && !unchecked) continue;
    const std::uint64_t id = preflight.size() == snapshots->size() ? old_id(preflight, *snapshots, server.name) : 0;
    readd.push_back({server.name, server.address, id != 0 ? id : ++next_id});
  }
  if (readd.empty()) co_return Result<void>{};
  if (auto prepared = co_await prepare_on_fleet(run, readd, Step::rollback); !prepared) co_return prepared;
  std::vector<std::vector<std::string>> waited(before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    for (const auto& s : readd) {
      if (std::find(before[i].up.begin(), before[i].up.end(), s.name) != before[i].up.end()) waited[i].push_back(s.name);
    }
  }
  co_return co_await run.wait_fleet(
      waited, [](const pools::ServerStat& s) { return s.check_passed(); }, "passing HAProxy's check",
      run.config().health.deadline, pools::check_poll(run.server_options().inter()), Step::rollback, false);
}

}  // namespace

asio::awaitable<PerServer> restore_health_files(CutoverRun& run) {
  auto& progress = run.progress();
  if (progress.health_files_removed.empty() || run.config().drain.method != DrainConfig::Method::health_file) {
    co_return PerServer{};
  }
  std::vector<pools::Server> removed;
  for (const auto& server : progress.old_servers()) {
    const auto& names = progress.health_files_removed;
    if (std::find(names.begin(), names.end(), server.name) != names.end()) removed.push_back(server);
  }
  auto& provider = run.provider();
  auto restored = co_await on_each_server(removed, "restore the health file of",
                                          [&provider](const pools::Server& s) { return provider.restore_health_file(s); });
  std::erase_if(progress.health_files_removed, [&](const std::string& name) {
    return std::find(restored.done.begin(), restored.done.end(), name) != restored.done.end();
  });
  co_return restored;
}

namespace {

asio::awaitable<Result<void>> restore_states(CutoverRun& run, const std::vector<OldPoolBefore>& before) {
  std::unordered_map<std::string, const OldPoolBefore*> by_lb;
  for (std::size_t i = 0; i < before.size(); ++i) by_lb[run.fleet().at(i).name()] = &before[i];
  const bool weights = run.progress().weights_changed;
  auto put_back = [by_lb, weights](pools::LoadBalancer& lb) -> asio::awaitable<Result<pools::Applied>> {
    const auto* was = by_lb.at(lb.name());
    auto states = co_await lb.ensure_states(was->admin);
    if (!states || !weights) co_return states;
    auto set = co_await lb.ensure_weight(was->weights);
    if (!set) co_return set;
    states->commands.insert(states->commands.end(), set->commands.begin(), set->commands.end());
    co_return states;
  };
  auto restored = co_await run.fleet().all<pools::Applied>(put_back);
  if (!restored) co_return std::unexpected(restored.error());
  run.emit_commands(Step::rollback, *restored);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> old_pool_back(CutoverRun& run) {
  const auto before = old_pool_before(run, run.fleet());
  // Health files first: an old server re-added after a detach must pass
  // HAProxy's check before it takes traffic, and without its file it never
  // would. One that could not be restored leaves its server out, but the
  // others are still put back before the failure is reported.
  const auto files = co_await restore_health_files(run);
  if (auto readded = co_await readd_detached(run, before); !readded) co_return readded;
  if (auto states = co_await restore_states(run, before); !states) co_return states;
  if (!files.ok()) co_return files.result();
  const auto inter = run.server_options().inter();
  std::vector<std::vector<std::string>> waited;
  for (const auto& lb : before) waited.push_back(lb.up);
  if (auto up = co_await run.wait_fleet(
          waited, [](const pools::ServerStat& s) { return s.is_fully_up(); }, "UP again",
          std::max(run.config().health.deadline, inter * 10), pools::check_poll(inter), Step::rollback, false);
      !up) {
    co_return up;
  }
  run.record_servers(db::Pool::old_pool, "serving");
  std::vector<std::string> left_out;
  for (std::size_t i = 0; i < before.size(); ++i) {
    for (const auto& name : run.old_names()) {
      if (std::find(before[i].up.begin(), before[i].up.end(), name) == before[i].up.end()) {
        left_out.push_back(name + " on " + run.fleet().at(i).name());
      }
    }
  }
  run.emit(Step::rollback, EventKind::old_pool_up,
           fmt::format("old servers back as they were before the cutover: {}{}", fmt::join(run.old_names(), ", "),
                       left_out.empty() ? "" : fmt::format(" (not UP before, so not waited for: {})", fmt::join(left_out, ", "))));
  co_return Result<void>{};
}

// The new pool off every LB. Terminating it is separate (terminate_new_pool):
// a server whose host is cut off cannot be stopped, yet the LBs are safe.
asio::awaitable<Result<void>> new_pool_off(CutoverRun& run) {
  const auto names = run.new_names();
  const auto& drain = run.config().drain;
  const auto poll = drain.wait_poll();
  const auto timeout = drain.timeout;
  auto delete_gracefully = [names, timeout, poll](pools::LoadBalancer& lb) { return lb.ensure_deleted(names, timeout, poll); };
  auto deleted = co_await run.fleet().all<pools::Applied>(delete_gracefully);
  if (!deleted && deleted.error().kind == ErrorKind::timeout && drain.on_timeout == DrainConfig::OnTimeout::force) {
    auto cut = [names](pools::LoadBalancer& lb) { return lb.shutdown_sessions(names); };
    (void)co_await run.fleet().all<pools::Applied>(cut);
    auto delete_now = [names, poll](pools::LoadBalancer& lb) { return lb.ensure_deleted(names, 30s, poll); };
    deleted = co_await run.fleet().all<pools::Applied>(delete_now);
  }
  if (!deleted) co_return std::unexpected(deleted.error());
  run.record_servers(db::Pool::new_pool, "detached");
  co_return Result<void>{};
}

asio::awaitable<Result<void>> terminate_new_pool(CutoverRun& run) {
  auto& provider = run.provider();
  auto terminated = co_await on_each_server(run.progress().cloned(), "terminate",
                                            [&provider](const pools::Server& s) { return provider.terminate(s); });
  if (!terminated.ok()) co_return terminated.result();
  run.record_servers(db::Pool::new_pool, "terminated");
  run.emit(Step::rollback, EventKind::new_pool_gone,
           fmt::format("new servers detached and terminated: {}", fmt::join(run.new_names(), ", ")));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> page_off_and_unfreeze(CutoverRun& run) {
  auto& progress = run.progress();
  if (progress.maintenance_on && run.config().maintenance) {
    if (auto off = co_await maintenance_off(run.fleet(), run.config().maintenance->map); !off) co_return off;
    progress.maintenance_on = false;
    if (auto saved = co_await run.save(); !saved) co_return saved;
    run.emit(Step::rollback, EventKind::maintenance_off, "maintenance page off: the old servers take traffic again");
  }
  if (progress.frozen) {
    auto unfrozen = co_await run.provider().unfreeze_scaling();
    if (!unfrozen) co_return std::unexpected(unfrozen.error().with_context("unfreeze scaling"));
    progress.frozen = false;
    if (auto saved = co_await run.save(); !saved) co_return saved;
  }
  co_return Result<void>{};
}

}  // namespace

// When an LB does not answer, the rollback cannot finish: on every LB that
// does, and where the old servers are UP as before, the new servers are
// deleted anyway, so no LB is left half-done while the operator waits for
// the other (the new servers keep running: the silent LB may still send
// them traffic). `lbctl resume` (or `abort`) finishes the rest once it answers.
asio::awaitable<void> new_pool_off_answering_lbs(CutoverRun& run) {
  const auto before = old_pool_before(run, run.fleet());
  const auto names = run.new_names();
  const auto poll = run.config().drain.wait_poll();
  const auto timeout = run.config().drain.timeout;
  std::size_t index = 0;
  std::map<std::string, std::size_t> index_of;
  for (const auto& lb : run.fleet().lbs()) index_of[lb->name()] = index++;
  auto off = [&](pools::LoadBalancer& lb) -> asio::awaitable<Result<pools::Applied>> {
    auto state = co_await lb.snapshot();
    if (!state) co_return std::unexpected(state.error());
    const auto& up = before.at(index_of.at(lb.name())).up;
    for (const auto& name : up) {
      const auto stat = std::find_if(state->stats.begin(), state->stats.end(),
                                     [&](const pools::ServerStat& s) { return s.name == name; });
      if (stat == state->stats.end() || !stat->is_fully_up()) {
        co_return fail(ErrorKind::conflict, fmt::format("{}: {} is not UP again yet", lb.name(), name));
      }
    }
    co_return co_await lb.ensure_deleted(names, timeout, poll);
  };
  const auto results = co_await run.fleet().each<pools::Applied>(off);
  std::vector<std::string> done, not_done;
  for (const auto& result : results) {
    if (result.result) done.push_back(result.lb);
    else not_done.push_back(result.result.error().message);
  }
  if (done.empty()) co_return;
  run.emit(Step::rollback, EventKind::warning,
           fmt::format("new servers detached from {} (its old servers UP as before); not from the rest: {}. The new "
                       "servers keep running until `lbctl resume` (or `abort`) finishes the rollback there",
                       fmt::join(done, ", "), fmt::join(not_done, "; ")));
}

asio::awaitable<Result<void>> roll_back(CutoverRun& run) {
  if (auto back = co_await old_pool_back(run); !back) {
    if (back.error().kind == ErrorKind::unreachable || back.error().kind == ErrorKind::timeout) {
      co_await new_pool_off_answering_lbs(run);
    }
    co_return back;
  }
  if (auto off = co_await new_pool_off(run); !off) co_return off;
  // From here the LBs are as before the cutover: a new server that cannot be
  // terminated (its host cut off, say) does not keep the page on or scaling
  // frozen, but it is reported: it may still run the new release.
  auto terminated = co_await terminate_new_pool(run);
  auto rest = co_await page_off_and_unfreeze(run);
  if (!terminated) {
    co_return fail(terminated.error().kind,
                   fmt::format("the old servers serve again and the new ones are off every load balancer, but {}: "
                               "make sure it is stopped",
                               terminated.error().message));
  }
  co_return rest;
}

}  // namespace lbctl
