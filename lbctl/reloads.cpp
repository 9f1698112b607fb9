// After a reload or a restart of an LB: put back what the steps already done
// had left there. Without persistence a reload loses every runtime change
// (the new servers, the drain, the deletions, the maintenance page); with it,
// the admin DRAIN state. Each part is an ensure, so when nothing was lost
// this costs a read per LB.

#include <fmt/format.h>

#include "lbctl/flow.hpp"
#include "lbctl/maintenance.hpp"
#include "lbctl/steps.hpp"
#include "lbctl/weights.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// The weights the stages left: those of the stage running or last run.
asio::awaitable<Result<void>> reensure_weights(CutoverRun& run, Step step, bool old_pool_there) {
  const auto& stages = run.config().stages;
  if (stages.empty() || !run.progress.value("weights_changed", false)) co_return Result<void>{};
  const std::size_t at = std::min(run.progress.value("stage", std::size_t{0}), stages.size() - 1);
  const auto weights = stage_weights(stages[at].weight_percent, run.old_servers.size(), run.new_servers.size());
  std::vector<std::pair<std::string, unsigned>> per_server;
  if (old_pool_there) {
    for (const auto& s : run.old_servers) per_server.emplace_back(s.name, weights.old_weight);
  }
  for (const auto& s : run.new_servers) per_server.emplace_back(s.name, weights.new_weight);
  auto set_weights = [per_server](pools::LoadBalancer& lb) { return lb.ensure_weight(per_server); };
  auto set = co_await run.d.fleet.all<pools::Applied>(set_weights);
  if (!set) co_return std::unexpected(set.error());
  run.emit_commands(step, *set);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> reensure_old_pool_out(CutoverRun& run, Step step, bool detached) {
  const auto names = run.old_names();
  const auto poll = std::min<std::chrono::milliseconds>(run.config().drain.poll, 1s);
  std::function<asio::awaitable<Result<pools::Applied>>(pools::LoadBalancer&)> op;
  if (detached) {
    op = [names, poll](pools::LoadBalancer& lb) { return lb.ensure_deleted(names, 60s, poll); };
  } else {
    op = [names](pools::LoadBalancer& lb) { return lb.ensure_state(names, pools::AdminTarget::drain); };
  }
  auto done = co_await run.d.fleet.all<pools::Applied>(op);
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
  if (page && done(Step::maintenance_on) && !done(Step::maintenance_off) && run.progress.contains("maintenance_text")) {
    if (auto on = co_await maintenance_on(run.d.fleet, page->map, run.progress["maintenance_text"].get<std::string>());
        !on) {
      co_return on;
    }
  }
  if (done(Step::attach)) {
    if (auto attached = co_await attach_new_pool(run, step); !attached) co_return attached;
    if (auto weights = co_await reensure_weights(run, step, !done(Step::detach)); !weights) co_return weights;
  }
  if (done(Step::detach)) co_return co_await reensure_old_pool_out(run, step, true);
  if (done(Step::drain) && run.config().drain.method == DrainConfig::Method::haproxy) {
    co_return co_await reensure_old_pool_out(run, step, false);
  }
  co_return Result<void>{};
}

}  // namespace lbctl
