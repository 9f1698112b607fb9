// detach: the old servers out of every LB (MAINT, then `del server`), only
// while every new server is UP on every LB.

#include <fmt/format.h>

#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<Result<void>> step_detach(CutoverRun& run) {
  const auto old_names = run.old_names();
  // A check that just failed once should not undo the cutover: a new server
  // that flapped gets time to rise again (the old ones are still attached).
  auto up = co_await run.wait_fleet(
      run.on_every_lb(run.new_names()), [](const pools::ServerStat& s) { return s.is_up(); },
      "UP on every load balancer", run.new_pool_patience(), pools::check_poll(run.server_options().inter()),
      Step::detach, false);
  if (!up) {
    co_return fail(ErrorKind::refused, "not detaching the old servers: a new server is not UP: " + up.error().message);
  }
  const auto& drain = run.config().drain;
  const auto timeout = std::max<std::chrono::milliseconds>(60s, drain.poll * 10);
  const auto poll = drain.wait_poll();
  auto detach = [old_names, timeout, poll](pools::LoadBalancer& lb) { return lb.ensure_deleted(old_names, timeout, poll); };
  auto deleted = co_await run.fleet().all<pools::Applied>(detach);
  if (!deleted) co_return std::unexpected(deleted.error());
  run.emit_commands(Step::detach, *deleted);
  run.record_servers(db::Pool::old_pool, "detached");
  run.emit(Step::detach, EventKind::detached,
           fmt::format("{} detached from every load balancer", fmt::join(old_names, ", ")));
  co_return Result<void>{};
}

}  // namespace lbctl
