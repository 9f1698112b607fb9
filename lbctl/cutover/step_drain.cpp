// drain: the old servers out of rotation, their sessions kept: their health
// file removed (HAProxy turns them NOLB under `http-check disable-on-404`),
// or `set server ... state drain`. The new pool is UP everywhere already.

#include <fmt/format.h>

#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

asio::awaitable<Result<void>> set_drain_state(CutoverRun& run) {
  const auto names = run.old_names();
  auto set_drain = [names](pools::LoadBalancer& lb) { return lb.ensure_state(names, pools::AdminTarget::drain); };
  auto drained = co_await run.fleet().all<pools::Applied>(set_drain);
  if (!drained) co_return std::unexpected(drained.error());
  run.emit_commands(Step::drain, *drained);
  run.record_servers(db::Pool::old_pool, "draining");
  co_return Result<void>{};
}

asio::awaitable<Result<void>> remove_health_files(CutoverRun& run) {
  auto& progress = run.progress();
  // Journaled first: after a crash mid-removal, a rollback restores them all.
  progress.health_files_removed = run.old_names();
  if (auto saved = co_await run.save(); !saved) co_return saved;
  auto& provider = run.provider();
  auto removed = co_await on_each_server(progress.old_servers(), "remove the health file of",
                                         [&provider](const pools::Server& s) { return provider.remove_health_file(s); });
  if (!removed.ok()) {
    // The files that stayed are not restored by a rollback.
    progress.health_files_removed = removed.done;
    if (auto saved = co_await run.save(); !saved) co_return saved;
    co_return removed.result();
  }
  run.record_servers(db::Pool::old_pool, "draining");
  run.emit(Step::drain, EventKind::health_files_removed,
           fmt::format("health files removed on {}", fmt::join(run.old_names(), ", ")));
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> step_drain(CutoverRun& run) {
  run.progress().drain_started = true;
  if (auto saved = co_await run.save(); !saved) co_return saved;
  if (run.config().drain.method == DrainConfig::Method::haproxy) co_return co_await set_drain_state(run);
  if (auto removed = co_await remove_health_files(run); !removed) co_return removed;
  // HAProxy marks a server NOLB at its first check that answers 404 (seen on
  // 2.6.12: within one `inter` of the removal). The old servers' own `inter`
  // is not in the runtime API, so the new pool's stands in for it, and the
  // wait is at least a minute: an old pool checked every 10s or 30s must not
  // be rolled back for being slow.
  const auto& options = run.server_options();
  const auto inter = options.inter();
  const auto timeout = std::max<std::chrono::milliseconds>(inter * options.fall_count() + 2 * inter + 2s, 60s);
  // A server already DOWN (crashed, say) takes no new sessions either, and
  // under disable-on-404 a 404 keeps it DOWN rather than making it NOLB.
  auto out = co_await run.wait_fleet(
      run.on_every_lb(run.old_names()),
      [](const pools::ServerStat& s) { return s.is_nolb() || s.is_drain() || s.is_maint() || s.is_down(); },
      "out of rotation (NOLB)", timeout, pools::check_poll(inter), Step::drain);
  if (!out && out.error().kind == ErrorKind::timeout) {
    co_return fail(ErrorKind::timeout,
                   fmt::format("{}. HAProxy did not take the old servers out of rotation after their health files "
                               "were removed: check that the backend has `http-check disable-on-404` and that its "
                               "health check asks for the file the provider removes (health.path {}); or use "
                               "drain.method: haproxy",
                               out.error().message, run.config().health.path));
  }
  co_return out;
}

}  // namespace lbctl
