// Step 13: terminate the old servers after terminate.delay. The delay's end
// is journaled (wall time) so a resumed cutover waits only what is left.

#include <fmt/format.h>

#include "core/async.hpp"
#include "lbctl/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

asio::awaitable<Result<void>> wait_old_workers_done(CutoverRun& run) {
  const auto& drain = run.config().drain;
  const auto deadline = run.d.clock.now() + drain.timeout;
  for (;;) {
    auto behind = co_await sessions_in_old_workers(run, run.old_names());
    if (!behind) co_return std::unexpected(behind.error());
    std::uint64_t left = 0;
    std::string where;
    for (std::size_t i = 0; i < behind->size(); ++i) {
      for (const auto& [server, sessions] : (*behind)[i]) {
        left += sessions;
        where += fmt::format("{}{} on {}: {}", where.empty() ? "" : ", ", server, run.d.fleet.at(i).name(), sessions);
      }
    }
    if (left == 0) co_return Result<void>{};
    if (run.d.clock.now() >= deadline) {
      co_return fail(ErrorKind::timeout, fmt::format("workers that a reload left behind still hold {} sessions on "
                                                     "the old servers after drain.timeout ({}); not terminating them",
                                                     left, where));
    }
    run.emit(Step::terminate, "waiting", fmt::format("{} sessions left in old HAProxy workers ({})", left, where));
    co_await run.d.clock.sleep_for(drain.poll);
  }
}

}  // namespace

asio::awaitable<Result<void>> step_terminate(CutoverRun& run) {
  const auto now_ms = [&run] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(run.d.clock.wall_now().time_since_epoch()).count();
  };
  if (!run.progress.contains("terminate_after_ms")) {
    run.progress["terminate_after_ms"] = now_ms() + run.config().terminate_delay.count();
    if (auto saved = run.save(); !saved) co_return saved;
  }
  const auto left = std::chrono::milliseconds(run.progress["terminate_after_ms"].get<std::int64_t>() - now_ms());
  if (left.count() > 0) {
    run.emit(Step::terminate, "waiting", fmt::format("terminating the old servers in {}", format_duration(left)));
    // Watching the LBs meanwhile: a reload that brought the old servers back
    // is repaired before they are gone.
    if (auto slept = co_await run.sleep_watching_reloads(left, run.config().drain.poll); !slept) co_return slept;
  }
  // A reload before the detach left a worker that may still hold sessions
  // on the old servers: terminating them would cut those.
  if (auto quiet = co_await wait_old_workers_done(run); !quiet) co_return quiet;
  std::vector<asio::awaitable<Result<void>>> terminations;
  for (const auto& server : run.old_servers) terminations.push_back(run.d.provider.terminate(server));
  auto results = co_await when_all(std::move(terminations));
  std::string failures;
  std::vector<db::ServerRecord> terminated;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& server = run.old_servers[i];
    if (results[i]) {
      terminated.push_back({db::Pool::old_pool, server.name, server.address, "terminated", std::nullopt, {}});
    } else {
      failures += fmt::format("{}{}: {}", failures.empty() ? "" : "; ", server.name, results[i].error().message);
    }
  }
  (void)run.d.journal.save_servers(run.id(), terminated);
  if (!failures.empty()) co_return fail(ErrorKind::refused, "terminate: " + failures);
  run.emit(Step::terminate, "terminated", fmt::format("terminated {}", fmt::join(run.old_names(), ", ")));
  co_return Result<void>{};
}

}  // namespace lbctl
