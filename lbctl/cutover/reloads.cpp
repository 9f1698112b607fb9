// After a reload or a restart of an LB: put back what the steps already done
// had left there. Without persistence a reload loses every runtime change
// (the new servers, the drain, the deletions, the maintenance page); with it,
// the admin DRAIN state. Each part is an ensure, so when nothing was lost
// this costs a read per LB.

#include <fmt/format.h>

#include "lbctl/cutover/maintenance.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

asio::awaitable<Result<void>> reensure_old_pool_out(CutoverRun& run, Step step, bool detached) {
  const auto names = run.old_names();
  const auto poll = std::min<std::chrono::milliseconds>(run.config().drain.poll, 1s);
  std::function<asio::awaitable<Result<pools::Applied>>(pools::LoadBalancer&)> op;
  if (detached) {
    op = [names, poll](pools::LoadBalancer& lb) { return lb.ensure_deleted(names, 60s, poll); };
  } else {
    op = [names](pools::LoadBalancer& lb) { return lb.ensure_state(names, pools::AdminTarget::drain); };
  }
  auto done = co_await run.fleet().all<pools::Applied>(op);
  if (!done) co_return std::unexpected(done.error());
  run.emit_commands(step, *done);
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> reensure_after_reload(CutoverRun& run, Step step) {
  if (step == Step::rollback) co_return Result<void>{};  // the rollback ensures everything itself
  const Flow flow = flow_for(run.config());
  const auto done = [&flow, step](Step earlier) {
    return flow.index_of(earlier) < flow.steps.size() && flow.index_of(earlier) < flow.index_of(step);
  };
  const auto& page = run.config().maintenance;
  const auto& progress = run.progress();
  if (page && done(Step::maintenance_on) && !done(Step::maintenance_off) && !progress.maintenance_text.empty()) {
    if (auto on = co_await maintenance_on(run.fleet(), page->map, progress.maintenance_text); !on) co_return on;
  }
  if (done(Step::attach)) {
    if (auto attached = co_await attach_new_pool(run, step); !attached) co_return attached;
    // The weights the stages left: those of the stage running or last run.
    if (!run.config().stages.empty() && progress.weights_changed) {
      const std::size_t stage = std::min(progress.stage, run.config().stages.size() - 1);
      if (auto set = co_await apply_stage_weights(run, stage, !done(Step::detach), step); !set) co_return set;
    }
  }
  if (done(Step::detach)) co_return co_await reensure_old_pool_out(run, step, true);
  if (done(Step::drain) && run.config().drain.method == DrainConfig::Method::haproxy) {
    co_return co_await reensure_old_pool_out(run, step, false);
  }
  co_return Result<void>{};
}

}  // namespace lbctl
