// Step 13: terminate the old servers after terminate.delay. The delay's end
// is journaled (wall time) so a resumed cutover waits only what is left.

#include <fmt/format.h>

#include "core/async.hpp"
#include "lbctl/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

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
    co_await run.d.clock.sleep_for(left);
  }
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
