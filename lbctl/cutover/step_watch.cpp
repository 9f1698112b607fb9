// watch: the old servers' sessions, read on every LB (and in the workers a
// reload left behind) every drain.poll, until none is left; at
// drain.timeout, roll back (on_timeout: abort) or cut them (force).

#include <fmt/format.h>
#include <unordered_set>

#include "lbctl/cutover/drain_progress.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<Result<std::vector<SessionMap>>> sessions_in_old_workers(CutoverRun& run, std::vector<std::string> names) {
  auto read = [names](pools::LoadBalancer& lb) { return lb.old_worker_sessions(names); };
  co_return co_await run.fleet().all<SessionMap>(read);
}

namespace {

// The old servers' sessions, where they are.
asio::awaitable<Result<std::vector<SessionCount>>> sessions_left(CutoverRun& run) {
  const auto names = run.old_names();
  const std::unordered_set<std::string> old(names.begin(), names.end());
  auto stats = co_await run.fleet_stats(Step::watch);
  if (!stats) co_return std::unexpected(stats.error());
  std::vector<SessionCount> left;
  for (std::size_t i = 0; i < stats->size(); ++i) {
    for (const auto& s : (*stats)[i]) {
      if (old.contains(s.name) && s.sessions() > 0) left.push_back({run.fleet().at(i).name(), s.name, s.scur, s.qcur});
    }
  }
  // A reload's old worker keeps its sessions, and the new worker does not
  // count them: they end on the old servers too.
  auto behind = co_await sessions_in_old_workers(run, names);
  if (!behind) co_return std::unexpected(behind.error());
  for (std::size_t i = 0; i < behind->size(); ++i) {
    for (const auto& [server, count] : (*behind)[i]) {
      left.push_back({run.fleet().at(i).name() + " (old worker)", server, count, 0});
    }
  }
  co_return left;
}

std::uint64_t total(const std::vector<SessionCount>& counts) {
  std::uint64_t sum = 0;
  for (const auto& c : counts) sum += c.scur + c.qcur;
  return sum;
}

std::string where(const std::vector<SessionCount>& counts) {
  std::vector<std::string> parts;
  for (const auto& c : counts) parts.push_back(fmt::format("{} on {}: {}", c.server, c.lb, c.scur + c.qcur));
  return fmt::format("{}", fmt::join(parts, ", "));
}

// At drain.timeout with on_timeout: force.
asio::awaitable<Result<void>> cut_sessions(CutoverRun& run, std::vector<SessionCount> counts) {
  const auto names = run.old_names();
  auto shut_down = [names](pools::LoadBalancer& lb) { return lb.shutdown_sessions(names); };
  auto cut = co_await run.fleet().all<pools::Applied>(shut_down);
  if (!cut) co_return std::unexpected(cut.error());
  run.emit_commands(Step::watch, *cut);
  run.progress().cut_sessions = counts;
  if (auto saved = co_await run.save(); !saved) co_return saved;
  const auto& timeout = run.config().drain.timeout;
  run.emit(Step::watch, EventKind::sessions_cut,
           fmt::format("drain.timeout {} passed: cut {} sessions ({})", format_duration(timeout), total(counts),
                       where(counts)),
           {{"sessions", total(counts)}, {"servers", counts}});
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> step_watch(CutoverRun& run) {
  const auto& drain = run.config().drain;
  if (run.progress().watch_started_ms == 0) {
    run.progress().watch_started_ms = run.wall_ms();
    if (auto saved = co_await run.save(); !saved) co_return saved;
  }
  const std::int64_t deadline_ms = run.progress().watch_started_ms + drain.timeout.count();
  DrainProgress progress;
  std::optional<Clock::TimePoint> last_journaled;
  for (;;) {
    auto counts = co_await sessions_left(run);
    if (!counts) co_return std::unexpected(counts.error());
    const std::uint64_t left = total(*counts);
    progress.add(run.clock().now(), left);
    nlohmann::json details = progress.details();
    details["servers"] = *counts;
    details["timeout_in_s"] = std::max<std::int64_t>(0, (deadline_ms - run.wall_ms()) / 1000);
    // Journaled every 5 s (and at the end) so `lbctl status` elsewhere can show a rate.
    const bool journal_it = !last_journaled || run.clock().now() - *last_journaled >= 5s || left == 0;
    if (journal_it) last_journaled = run.clock().now();
    run.emit(Step::watch, EventKind::drain_progress, fmt::format("{} sessions left", left), details, journal_it);
    if (left == 0) {
      run.record_servers(db::Pool::old_pool, "drained");
      run.emit(Step::watch, EventKind::drained, "no sessions left on the old servers");
      co_return Result<void>{};
    }
    if (run.stop_requested()) co_return fail(ErrorKind::cancelled, "stopped during the drain");
    if (run.wall_ms() >= deadline_ms) {
      if (drain.on_timeout == DrainConfig::OnTimeout::force) co_return co_await cut_sessions(run, *counts);
      co_return fail(ErrorKind::timeout, fmt::format("drain.timeout {} passed with {} sessions left ({})",
                                                     format_duration(drain.timeout), left, where(*counts)));
    }
    co_await run.clock().sleep_for(drain.poll);
  }
}

}  // namespace lbctl
