// stages: the new pool's share of the backend's weight raised stage by
// stage; each stage holds while the new pool's 5xx ratio, counted by HAProxy
// since the stage began, stays at or under the stage's limit.

#include <fmt/format.h>

#include "lbctl/cutover/analysis_run.hpp"
#include "lbctl/cutover/steps.hpp"
#include "lbctl/cutover/weights.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<Result<void>> apply_stage_weights(CutoverRun& run, std::size_t stage, bool old_pool_there, Step step) {
  const auto& stages = run.config().stages;
  const auto weights = stage_weights(stages.at(stage).weight_percent, run.progress().old_pool.size(),
                                     run.progress().new_pool.size());
  auto targets = weight_targets(weights, old_pool_there ? run.old_names() : std::vector<std::string>{}, run.new_names());
  auto set_weights = [targets](pools::LoadBalancer& lb) { return lb.ensure_weight(targets); };
  auto set = co_await run.fleet().all<pools::Applied>(set_weights);
  if (!set) co_return std::unexpected(set.error());
  run.emit_commands(step, *set);
  co_return Result<void>{};
}

namespace {

struct Counters {
  std::uint64_t responses = 0;
  std::uint64_t errors = 0;
};

Counters new_pool_counters(const CutoverRun& run, const std::vector<std::vector<pools::ServerStat>>& stats) {
  Counters total;
  const auto names = run.new_names();
  for (const auto& lb : stats) {
    for (const auto& s : lb) {
      if (std::find(names.begin(), names.end(), s.name) == names.end()) continue;
      total.responses += s.responses;
      total.errors += s.hrsp_5xx;
    }
  }
  return total;
}

// Holds stage `i` for its `hold`, failing when the new pool's 5xx ratio goes
// over the stage's limit.
asio::awaitable<Result<void>> hold_stage(CutoverRun& run, std::size_t i) {
  const auto& stage = run.config().stages[i];
  auto baseline_stats = co_await run.fleet_stats(Step::stages);
  if (!baseline_stats) co_return std::unexpected(baseline_stats.error());
  const Counters baseline = new_pool_counters(run, *baseline_stats);
  const auto hold_end = run.clock().now() + stage.hold;
  const auto poll = run.config().drain.wait_poll();
  // A hold shorter than one interval is not analysed (not one measurement fits).
  const auto& analysis_config = run.config().analysis;
  const bool analysed = analysis_config && stage.hold >= analysis_config->interval;
  AnalysisRun analysis(run, Step::stages);
  if (analysed) (void)co_await analysis.poll(*baseline_stats);  // the baseline: never fails
  for (;;) {
    auto stats = co_await run.fleet_stats(Step::stages);
    if (!stats) co_return std::unexpected(stats.error());
    if (analysed) {
      if (auto measured = co_await analysis.poll(*stats); !measured) {
        co_return fail(ErrorKind::refused, fmt::format("stage {}: {}", i + 1, measured.error().message));
      }
    }
    const Counters now = new_pool_counters(run, *stats);
    const std::uint64_t responses = now.responses - std::min(now.responses, baseline.responses);
    const std::uint64_t errors = now.errors - std::min(now.errors, baseline.errors);
    const double ratio = responses == 0 ? 0.0 : static_cast<double>(errors) / static_cast<double>(responses);
    if (stage.max_5xx_ratio && responses > 0 && ratio > *stage.max_5xx_ratio) {
      co_return fail(ErrorKind::refused, fmt::format("stage {}: the new pool answered {} of {} responses with 5xx "
                                                     "({:.3f}), over max_5xx_ratio {}",
                                                     i + 1, errors, responses, ratio, *stage.max_5xx_ratio));
    }
    run.poll_journal();
    if (run.abort_asked()) co_return fail(ErrorKind::cancelled, "stopped during a stage");
    if (run.clock().now() >= hold_end) {
      if (analysed) {
        if (auto concluded = analysis.end_of_hold(fmt::format("stage {}'s hold", i + 1)); !concluded) co_return concluded;
      }
      run.emit(Step::stages, EventKind::stage_passed,
               fmt::format("stage {} held: {} responses from the new pool, {} 5xx", i + 1, responses, errors),
               {{"stage", i + 1}, {"responses", responses}, {"errors_5xx", errors}});
      co_return Result<void>{};
    }
    co_await run.clock().sleep_for(
        std::min(poll, std::chrono::duration_cast<std::chrono::milliseconds>(hold_end - run.clock().now())));
  }
}

}  // namespace

asio::awaitable<Result<void>> step_stages(CutoverRun& run) {
  const auto& stages = run.config().stages;
  auto& progress = run.progress();
  for (std::size_t i = progress.stage; i < stages.size(); ++i) {
    progress.stage = i;
    progress.weights_changed = true;
    if (auto saved = co_await run.save(); !saved) co_return saved;
    if (auto set = co_await apply_stage_weights(run, i, true, Step::stages); !set) co_return set;
    const auto weights = stage_weights(stages[i].weight_percent, progress.old_pool.size(), progress.new_pool.size());
    run.emit(Step::stages, EventKind::stage,
             fmt::format("stage {}/{}: new pool {}% of the weight (new {} x {}, old {} x {}), hold {}", i + 1,
                         stages.size(), stages[i].weight_percent, progress.new_pool.size(), weights.new_weight,
                         progress.old_pool.size(), weights.old_weight, format_duration(stages[i].hold)),
             {{"stage", i + 1}, {"weight_percent", stages[i].weight_percent}, {"new_weight", weights.new_weight},
              {"old_weight", weights.old_weight}});
    if (auto held = co_await hold_stage(run, i); !held) co_return held;
  }
  progress.stage = stages.size();
  if (auto saved = co_await run.save(); !saved) co_return saved;
  co_return Result<void>{};
}

}  // namespace lbctl
