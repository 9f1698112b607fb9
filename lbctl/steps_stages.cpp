// Step 7: staged traffic. Each stage gives the new pool a share of the
// backend's weight and holds it while the new pool's 5xx ratio, counted by
// HAProxy since the stage began, stays at or under the stage's limit.

#include <fmt/format.h>

#include "lbctl/steps.hpp"
#include "lbctl/weights.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

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

}  // namespace

asio::awaitable<Result<void>> step_stages(CutoverRun& run) {
  const auto& stages = run.config().stages;
  const std::size_t first = run.progress.value("stage", std::size_t{0});
  for (std::size_t i = first; i < stages.size(); ++i) {
    const auto& stage = stages[i];
    run.progress["stage"] = i;
    run.progress["weights_changed"] = true;
    if (auto saved = run.save(); !saved) co_return saved;
    const auto weights = stage_weights(stage.weight_percent, run.old_servers.size(), run.new_servers.size());
    std::vector<std::pair<std::string, unsigned>> per_server;
    for (const auto& s : run.old_servers) per_server.emplace_back(s.name, weights.old_weight);
    for (const auto& s : run.new_servers) per_server.emplace_back(s.name, weights.new_weight);
    auto set_weights = [per_server](pools::LoadBalancer& lb) { return lb.ensure_weight(per_server); };
    auto set = co_await run.d.fleet.all<pools::Applied>(set_weights);
    if (!set) co_return std::unexpected(set.error());
    run.emit(Step::stages, "stage",
             fmt::format("stage {}/{}: new pool {}% of the weight (new {} x {}, old {} x {}), hold {}", i + 1,
                         stages.size(), stage.weight_percent, run.new_servers.size(), weights.new_weight,
                         run.old_servers.size(), weights.old_weight, format_duration(stage.hold)),
             {{"stage", i + 1}, {"weight_percent", stage.weight_percent}, {"new_weight", weights.new_weight},
              {"old_weight", weights.old_weight}});

    auto baseline_stats = co_await run.fleet_stats(Step::stages);
    if (!baseline_stats) co_return std::unexpected(baseline_stats.error());
    const Counters baseline = new_pool_counters(run, *baseline_stats);
    const auto hold_end = run.d.clock.now() + stage.hold;
    const auto poll = std::min<std::chrono::milliseconds>(run.config().drain.poll, 1s);
    for (;;) {
      auto stats = co_await run.fleet_stats(Step::stages);
      if (!stats) co_return std::unexpected(stats.error());
      const Counters now = new_pool_counters(run, *stats);
      const std::uint64_t responses = now.responses - std::min(now.responses, baseline.responses);
      const std::uint64_t errors = now.errors - std::min(now.errors, baseline.errors);
      const double ratio = responses == 0 ? 0.0 : static_cast<double>(errors) / static_cast<double>(responses);
      if (stage.max_5xx_ratio && responses > 0 && ratio > *stage.max_5xx_ratio) {
        co_return fail(ErrorKind::refused,
                       fmt::format("stage {}: the new pool answered {} of {} responses with 5xx ({:.3f}), over "
                                   "max_5xx_ratio {}",
                                   i + 1, errors, responses, ratio, *stage.max_5xx_ratio));
      }
      if (run.stop_requested()) co_return fail(ErrorKind::cancelled, "stopped during a stage");
      if (run.d.clock.now() >= hold_end) {
        run.emit(Step::stages, "stage_passed",
                 fmt::format("stage {} held: {} responses from the new pool, {} 5xx", i + 1, responses, errors),
                 {{"stage", i + 1}, {"responses", responses}, {"errors_5xx", errors}});
        break;
      }
      co_await run.d.clock.sleep_for(std::min(poll, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        hold_end - run.d.clock.now())));
    }
  }
  run.progress["stage"] = stages.size();
  if (auto saved = run.save(); !saved) co_return saved;
  co_return Result<void>{};
}

}  // namespace lbctl
