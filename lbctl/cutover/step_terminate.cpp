// terminate: the old servers gone, after terminate.delay. The delay's end is
// journaled (wall time) so a resumed cutover waits only what is left.

#include <fmt/format.h>
#include <unordered_set>

#include "core/async.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

// A reload before the detach left a worker that may still hold sessions on
// the old servers: terminating them would cut those.
asio::awaitable<Result<void>> wait_old_workers_done(CutoverRun& run) {
  const auto& drain = run.config().drain;
  const auto deadline = run.clock().now() + drain.timeout;
  for (;;) {
    auto behind = co_await sessions_in_old_workers(run, run.old_names());
    if (!behind) co_return std::unexpected(behind.error());
    std::uint64_t left = 0;
    std::vector<std::string> where;
    for (std::size_t i = 0; i < behind->size(); ++i) {
      for (const auto& [server, sessions] : (*behind)[i]) {
        left += sessions;
        where.push_back(fmt::format("{} on {}: {}", server, run.fleet().at(i).name(), sessions));
      }
    }
    if (left == 0) co_return Result<void>{};
    if (run.clock().now() >= deadline) {
      co_return fail(ErrorKind::timeout, fmt::format("workers that a reload left behind still hold {} sessions on the "
                                                     "old servers after drain.timeout ({}); not terminating them",
                                                     left, fmt::join(where, ", ")));
    }
    run.emit(Step::terminate, EventKind::waiting,
             fmt::format("{} sessions left in old HAProxy workers ({})", left, fmt::join(where, ", ")));
    co_await run.clock().sleep_for(drain.poll);
  }
}

}  // namespace

asio::awaitable<Result<void>> step_terminate(CutoverRun& run) {
  auto& progress = run.progress();
  if (progress.terminate_after_ms == 0) {
    progress.terminate_after_ms = run.wall_ms() + run.config().terminate_delay.count();
    if (auto saved = co_await run.save(); !saved) co_return saved;
  }
  const auto left = std::chrono::milliseconds(progress.terminate_after_ms - run.wall_ms());
  if (left.count() > 0) {
    run.emit(Step::terminate, EventKind::waiting, fmt::format("terminating the old servers in {}", format_duration(left)));
    // Watching the LBs meanwhile: a reload that brought the old servers back
    // is repaired before they are gone.
    if (auto slept = co_await run.sleep_watching_reloads(left, run.config().drain.poll); !slept) co_return slept;
  }
  if (auto quiet = co_await wait_old_workers_done(run); !quiet) co_return quiet;
  const auto old = progress.old_servers();
  auto& provider = run.provider();
  auto terminated = co_await on_each_server(old, "terminate",
                                            [&provider](const pools::Server& s) { return provider.terminate(s); });
  std::vector<db::ServerRecord> records;
  const std::unordered_set<std::string_view> done(terminated.done.begin(), terminated.done.end());
  for (const auto& server : old) {
    if (!done.contains(server.name)) continue;
    records.push_back({db::Pool::old_pool, server.name, server.address, "terminated", std::nullopt, {}});
  }
  run.record_servers(std::move(records));
  if (!terminated.ok()) co_return terminated.result();
  run.emit(Step::terminate, EventKind::terminated, fmt::format("terminated {}", fmt::join(run.old_names(), ", ")));
  co_return Result<void>{};
}

}  // namespace lbctl
