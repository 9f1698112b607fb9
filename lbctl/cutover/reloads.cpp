// After a reload or a restart of an LB: put back what the steps already done
// had left there. Without persistence a reload loses every runtime change
// (the new servers, the drain, the deletions, the maintenance page); with it,
// the admin DRAIN state. Each step's part is in the step table (its
// `reensure`), run in the flow's order; each is an ensure, so when nothing
// was lost this costs a read per LB.

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
  const auto poll = run.config().drain.wait_poll();
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

asio::awaitable<Result<void>> reensure_maintenance_page(CutoverRun& run, Step /*step*/, const DoneBefore& done) {
  const auto& page = run.config().maintenance;
  const auto& text = run.progress().maintenance_text;
  if (!page || done(Step::maintenance_off) || text.empty()) co_return Result<void>{};
  co_return co_await maintenance_on(run.fleet(), page->map, text);
}

asio::awaitable<Result<void>> reensure_new_pool(CutoverRun& run, Step step, const DoneBefore& done) {
  if (auto attached = co_await attach_new_pool(run, step); !attached) co_return attached;
  // The weights the stages left: those of the stage running or last run.
  const auto& progress = run.progress();
  if (run.config().stages.empty() || !progress.weights_changed) co_return Result<void>{};
  const std::size_t stage = std::min(progress.stage, run.config().stages.size() - 1);
  co_return co_await apply_stage_weights(run, stage, !done(Step::detach), step);
}

asio::awaitable<Result<void>> reensure_drained(CutoverRun& run, Step step, const DoneBefore& done) {
  // Health files are the app servers' and survive a reload; a detach deletes them anyway.
  if (done(Step::detach) || run.config().drain.method != DrainConfig::Method::haproxy) co_return Result<void>{};
  co_return co_await reensure_old_pool_out(run, step, false);
}

asio::awaitable<Result<void>> reensure_detached(CutoverRun& run, Step step, const DoneBefore& /*done*/) {
  co_return co_await reensure_old_pool_out(run, step, true);
}

asio::awaitable<Result<void>> reensure_after_reload(CutoverRun& run, Step step) {
  const Flow flow = flow_for(run.config());
  // A step outside the flow (the rollback) ensures everything itself.
  if (flow.find(step) == nullptr) co_return Result<void>{};
  const DoneBefore done = [&flow, step](Step earlier) {
    return flow.index_of(earlier) < flow.steps.size() && flow.index_of(earlier) < flow.index_of(step);
  };
  for (const auto& row : flow.steps) {
    if (!done(row.step)) break;
    const ReensureFunction reensure = reensure_of(row.step);
    if (reensure == nullptr) continue;
    if (auto again = co_await reensure(run, step, done); !again) co_return again;
  }
  co_return Result<void>{};
}

}  // namespace lbctl
