// verify: each new server checked directly (its health path, and its
// database path), while every LB already adds it in MAINT and runs its own
// checks: neither waits for the other, and no server takes traffic yet.

#include <fmt/format.h>

#include "core/async.hpp"
#include "health/verify.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

asio::awaitable<Result<void>> direct_checks(CutoverRun& run) {
  std::vector<health::Target> targets;
  for (const auto& s : run.progress().cloned()) targets.push_back({s.name, s.address});
  std::function<bool()> should_stop = [&run] {
    run.poll_journal();
    return run.abort_asked();
  };
  auto verdicts = co_await health::verify(targets, run.config().health, run.prober(), run.clock(), should_stop);
  std::vector<std::string> failures;
  for (const auto& v : verdicts) {
    run.emit(Step::verify, v.healthy ? EventKind::healthy : EventKind::unhealthy,
             fmt::format("{} ({}): {}", v.name, v.address, v.reason),
             {{"server", v.name}, {"healthy", v.healthy}, {"reason", v.reason}, {"elapsed_ms", v.elapsed.count()}});
    if (!v.healthy) failures.push_back(v.name + ": " + v.reason);
  }
  run.poll_journal();
  if (run.abort_asked()) co_return fail(ErrorKind::cancelled, "stopped during verification");
  if (!failures.empty()) {
    co_return fail(ErrorKind::refused, fmt::format("new servers failed their checks: {}", fmt::join(failures, "; ")));
  }
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> step_verify(CutoverRun& run) {
  std::vector<asio::awaitable<Result<void>>> both;
  both.push_back(direct_checks(run));
  both.push_back(prepare_on_fleet(run, run.new_servers(), Step::verify));
  auto results = co_await when_all(std::move(both));
  for (auto& result : results) {
    if (!result) co_return result;
  }
  run.record_servers(db::Pool::new_pool, "verified");
  co_return Result<void>{};
}

}  // namespace lbctl
