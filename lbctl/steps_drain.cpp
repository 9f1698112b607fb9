// Steps 8-10: take the old servers out of rotation (health file or HAProxy
// drain state), watch their sessions end on every LB, then detach them
// (MAINT, then `del server`). The new pool must be UP everywhere first.

#include <fmt/format.h>
#include <unordered_set>

#include "core/async.hpp"
#include "lbctl/drain_progress.hpp"
#include "lbctl/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::chrono::milliseconds check_inter(const CutoverRun& run) {
  return std::chrono::milliseconds(run.server_options.inter_ms.value_or(2000));
}

std::int64_t wall_ms(const CutoverRun& run) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(run.d.clock.wall_now().time_since_epoch()).count();
}

}  // namespace

asio::awaitable<Result<std::vector<SessionMap>>> sessions_in_old_workers(CutoverRun& run, std::vector<std::string> names) {
  auto read = [names](pools::LoadBalancer& lb) { return lb.old_worker_sessions(names); };
  co_return co_await run.d.fleet.all<SessionMap>(read);
}

asio::awaitable<Result<void>> step_drain(CutoverRun& run) {
  const auto names = run.old_names();
  run.progress["drain_started"] = true;
  if (auto saved = run.save(); !saved) co_return saved;
  if (run.config().drain.method == DrainConfig::Method::haproxy) {
    auto set_drain = [names](pools::LoadBalancer& lb) { return lb.ensure_state(names, pools::AdminTarget::drain); };
    auto drained = co_await run.d.fleet.all<pools::Applied>(set_drain);
    if (!drained) co_return std::unexpected(drained.error());
    run.emit_commands(Step::drain, *drained);
    run.record_servers(db::Pool::old_pool, "draining");
    co_return Result<void>{};
  }

  std::vector<asio::awaitable<Result<void>>> removals;
  for (const auto& server : run.old_servers) removals.push_back(run.d.provider.remove_health_file(server));
  auto removed = co_await when_all(std::move(removals));
  for (std::size_t i = 0; i < removed.size(); ++i) {
    if (!removed[i]) {
      co_return std::unexpected(removed[i].error().with_context("remove the health file of " + run.old_servers[i].name));
    }
  }
  run.record_servers(db::Pool::old_pool, "draining");
  run.emit(Step::drain, "health_files_removed", fmt::format("health files removed on {}", fmt::join(names, ", ")));

  // HAProxy marks a server NOLB at its first check that answers 404 (seen on
  // 2.6.12: within one `inter` of the removal). The old servers' own `inter`
  // is not in the runtime API, so the new pool's stands in for it, and the
  // wait is at least a minute: an old pool checked every 10s or 30s must not
  // be rolled back for being slow.
  const auto inter = check_inter(run);
  const int fall = run.server_options.fall.value_or(3);
  const auto timeout = std::max<std::chrono::milliseconds>(inter * fall + 2 * inter + 2s, 60s);
  // A server already DOWN (crashed, say) takes no new sessions either, and
  // under disable-on-404 a 404 keeps it DOWN rather than making it NOLB.
  auto out = co_await run.wait_fleet(
      names, [](const pools::ServerStat& s) { return s.is_nolb() || s.is_drain() || s.is_maint() || s.is_down(); },
      "out of rotation (NOLB)", timeout, std::clamp(inter / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(500)),
      Step::drain);
  if (!out) {
    if (out.error().kind != ErrorKind::timeout) co_return out;
    co_return fail(ErrorKind::timeout,
                   fmt::format("{}. HAProxy did not take the old servers out of rotation after their health files "
                               "were removed: check that the backend has `http-check disable-on-404` and that its "
                               "health check asks for the file the provider removes (health.path {}); or use "
                               "drain.method: haproxy",
                               out.error().message, run.config().health.path));
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_watch(CutoverRun& run) {
  const auto& drain = run.config().drain;
  if (!run.progress.contains("watch_started_ms")) {
    run.progress["watch_started_ms"] = wall_ms(run);
    if (auto saved = run.save(); !saved) co_return saved;
  }
  const std::int64_t deadline_ms = run.progress["watch_started_ms"].get<std::int64_t>() + drain.timeout.count();
  const auto old_names = run.old_names();
  const std::unordered_set<std::string> old(old_names.begin(), old_names.end());
  DrainProgress progress;
  std::optional<Clock::TimePoint> last_journaled;
  for (;;) {
    auto stats = co_await run.fleet_stats(Step::watch);
    if (!stats) co_return std::unexpected(stats.error());
    std::uint64_t left = 0;
    auto per_server = nlohmann::json::array();
    for (std::size_t i = 0; i < stats->size(); ++i) {
      for (const auto& s : (*stats)[i]) {
        if (!old.contains(s.name) || s.sessions() == 0) continue;
        left += s.sessions();
        per_server.push_back({{"lb", run.d.fleet.at(i).name()}, {"server", s.name}, {"scur", s.scur},
                              {"qcur", s.qcur}});
      }
    }
    // A reload's old worker keeps its sessions, and the new worker does not
    // count them: they end on the old servers too.
    auto behind = co_await sessions_in_old_workers(run, old_names);
    if (!behind) co_return std::unexpected(behind.error());
    for (std::size_t i = 0; i < behind->size(); ++i) {
      for (const auto& [server, sessions] : (*behind)[i]) {
        left += sessions;
        per_server.push_back({{"lb", run.d.fleet.at(i).name() + " (old worker)"}, {"server", server},
                              {"scur", sessions}, {"qcur", 0}});
      }
    }
    progress.add(run.d.clock.now(), left);
    nlohmann::json details = {{"sessions_left", left},
                              {"sessions_at_start", progress.at_start()},
                              {"servers", per_server},
                              {"timeout_in_s", std::max<std::int64_t>(0, (deadline_ms - wall_ms(run)) / 1000)}};
    if (auto rate = progress.rate_per_second()) details["rate_per_s"] = *rate;
    if (auto eta = progress.eta_seconds()) details["eta_s"] = *eta;
    // Journaled every 5 s (and at the end) so `lbctl status` elsewhere can show a rate.
    const bool journal_it = !last_journaled || run.d.clock.now() - *last_journaled >= 5s || left == 0;
    if (journal_it) last_journaled = run.d.clock.now();
    run.emit(Step::watch, "drain_progress", fmt::format("{} sessions left", left), details, journal_it);
    if (left == 0) {
      run.record_servers(db::Pool::old_pool, "drained");
      run.emit(Step::watch, "drained", "no sessions left on the old servers");
      co_return Result<void>{};
    }
    if (run.stop_requested()) co_return fail(ErrorKind::cancelled, "stopped during the drain");
    if (wall_ms(run) >= deadline_ms) {
      std::string where;
      for (const auto& s : per_server) {
        where += fmt::format("{}{} on {}: {}", where.empty() ? "" : ", ", s["server"].get<std::string>(),
                             s["lb"].get<std::string>(),
                             s["scur"].get<std::uint64_t>() + s["qcur"].get<std::uint64_t>());
      }
      if (drain.on_timeout == DrainConfig::OnTimeout::abort) {
        co_return fail(ErrorKind::timeout, fmt::format("drain.timeout {} passed with {} sessions left ({})",
                                                       format_duration(drain.timeout), left, where));
      }
      auto shut_down = [old_names](pools::LoadBalancer& lb) { return lb.shutdown_sessions(old_names); };
      auto cut = co_await run.d.fleet.all<pools::Applied>(shut_down);
      if (!cut) co_return std::unexpected(cut.error());
      run.emit_commands(Step::watch, *cut);
      run.progress["cut_sessions"] = per_server;
      if (auto saved = run.save(); !saved) co_return saved;
      run.emit(Step::watch, "sessions_cut",
               fmt::format("drain.timeout {} passed: cut {} sessions ({})", format_duration(drain.timeout), left, where),
               {{"sessions", left}, {"servers", per_server}});
      co_return Result<void>{};
    }
    co_await run.d.clock.sleep_for(drain.poll);
  }
}

asio::awaitable<Result<void>> step_detach(CutoverRun& run) {
  const auto old_names = run.old_names();
  // Never detach an old server while a new one is not UP on every LB. A
  // check that just failed once should not undo the cutover: give a new
  // server that flapped time to rise again (the old ones are still attached).
  const auto inter = check_inter(run);
  const int rise = run.server_options.rise.value_or(2);
  const int fall = run.server_options.fall.value_or(3);
  const auto settle = inter * (rise + fall) * 2 + 2s;
  auto up = co_await run.wait_fleet(
      run.new_names(), [](const pools::ServerStat& s) { return s.is_up(); }, "UP on every load balancer", settle,
      std::clamp(inter / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(500)), Step::detach, false);
  if (!up) {
    co_return fail(ErrorKind::refused, "not detaching the old servers: a new server is not UP: " + up.error().message);
  }
  const auto timeout = std::max<std::chrono::milliseconds>(60s, run.config().drain.poll * 10);
  const auto poll = std::min<std::chrono::milliseconds>(run.config().drain.poll, 1s);
  auto detach = [old_names, timeout, poll](pools::LoadBalancer& lb) {
    return lb.ensure_deleted(old_names, timeout, poll);
  };
  auto deleted = co_await run.d.fleet.all<pools::Applied>(detach);
  if (!deleted) co_return std::unexpected(deleted.error());
  run.emit_commands(Step::detach, *deleted);
  run.record_servers(db::Pool::old_pool, "detached");
  run.emit(Step::detach, "detached", fmt::format("{} detached from every load balancer", fmt::join(old_names, ", ")));
  co_return Result<void>{};
}

}  // namespace lbctl
