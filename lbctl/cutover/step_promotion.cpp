// The promotion gate and the undo window.
//
// promote (promotion.mode manual): both pools serving, the cutover waits for
// `lbctl promote` (through the journal, from any machine), `lbctl abort` (a
// rollback) or one of its timers. The pause's start is journaled, so the
// timers count across a resume. Every poll also reads the fleet: a new
// server that dies meanwhile rolls the cutover back, a reload is repaired.
//
// undo_window (promotion.undo_window): the old servers are detached but keep
// running, their health files back, until the window closes; `lbctl undo`
// (or `lbctl abort`) meanwhile is a rollback: the old pool back on every LB,
// the new one drained and terminated. Post-migrations and terminate come
// after it, so they wait for the window.

#include <fmt/format.h>

#include "core/duration.hpp"
#include "core/time_format.hpp"
#include "lbctl/cutover/analysis_run.hpp"
#include "lbctl/cutover/promotion.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::string paused_for(const CutoverRun& run) {
  return format_duration(std::chrono::milliseconds(std::max<std::int64_t>(run.wall_ms() - run.progress().paused_at_ms, 0)));
}

asio::awaitable<Result<void>> promoted(CutoverRun& run, std::string by) {
  auto& progress = run.progress();
  progress.promoted_by = std::move(by);
  progress.promoted_at_ms = run.wall_ms();
  if (auto saved = co_await run.save(); !saved) co_return saved;
  run.emit(Step::promote, EventKind::promoted,
           fmt::format("promoted by {} after {} paused: draining the old servers", progress.promoted_by, paused_for(run)),
           {{"by", progress.promoted_by}});
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> step_promote(CutoverRun& run) {
  auto& progress = run.progress();
  const auto& promotion = run.config().promotion;
  if (progress.promoted_at_ms != 0) co_return Result<void>{};  // resumed after the promotion was journaled
  if (progress.paused_at_ms == 0) {
    progress.paused_at_ms = run.wall_ms();
    if (auto saved = co_await run.save(); !saved) co_return saved;
  }
  const auto first = pause_timers(promotion, progress.paused_at_ms, run.wall_ms());
  run.emit(Step::promote, EventKind::paused,
           fmt::format("paused, waiting for promote: both pools serving ({}); `lbctl promote` goes on, `lbctl abort` "
                       "rolls back",
                       describe(first)),
           {{"paused_at_ms", progress.paused_at_ms},
            {"auto_promote_after", format_duration(promotion.auto_promote_after)},
            {"auto_abort_after", format_duration(promotion.auto_abort_after)}});
  AnalysisRun analysis(run, Step::promote);
  for (;;) {
    // The fleet read: a new server that died, or a reload, ends the wait; a
    // failed analysis rolls back.
    auto stats = co_await run.fleet_stats(Step::promote);
    if (!stats) co_return std::unexpected(stats.error());
    if (auto measured = co_await analysis.poll(*stats); !measured) co_return measured;
    run.poll_journal();
    if (run.abort_asked()) co_return fail(ErrorKind::cancelled, "stopped while paused for promotion");
    if (run.session().requests().promote) {
      // Named first: GCC 12 frees a ?: temporary inside co_await twice.
      std::string by = run.session().requests().promote_by;
      if (by.empty()) by = "lbctl promote";
      co_return co_await promoted(run, std::move(by));
    }
    const auto timers = pause_timers(promotion, progress.paused_at_ms, run.wall_ms());
    if (timers.promote_due()) {
      std::string by = "auto_promote_after=" + format_duration(promotion.auto_promote_after);
      co_return co_await promoted(run, std::move(by));
    }
    if (timers.abort_due()) {
      co_return fail(ErrorKind::timeout, fmt::format("not promoted within auto_abort_after {}: rolling back",
                                                     format_duration(promotion.auto_abort_after)));
    }
    std::chrono::milliseconds wait = run.config().drain.wait_poll();
    for (auto left : {timers.promote_in_ms, timers.abort_in_ms}) {
      if (left) wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(*left, 1)));
    }
    co_await run.clock().sleep_for(wait);
  }
}

asio::awaitable<Result<void>> step_undo_window(CutoverRun& run) {
  auto& progress = run.progress();
  const auto window = run.config().promotion.undo_window;
  if (progress.undo_until_ms == 0) {
    progress.undo_until_ms = run.wall_ms() + window.count();
    if (auto saved = co_await run.save(); !saved) co_return saved;
  }
  // Out of every LB now: their health files back, so an undo finds them ready
  // (and one that cannot be restored is said now, not at the undo).
  if (!progress.health_files_removed.empty()) {
    const auto restored = co_await restore_health_files(run);
    if (auto saved = co_await run.save(); !saved) co_return saved;
    if (!restored.ok()) {
      run.emit(Step::undo_window, EventKind::warning,
               restored.failed + " (an undo tries again before putting them back)");
    }
  }
  const auto closes = std::chrono::system_clock::time_point(std::chrono::milliseconds(progress.undo_until_ms));
  run.emit(Step::undo_window, EventKind::undo_window,
           fmt::format("old servers detached, kept running and ready until {} (undo_window {}): `lbctl undo` puts them "
                       "back; post-migrations and terminate wait",
                       format_time(closes, TimeFormat::human), format_duration(window)),
           {{"undo_until_ms", progress.undo_until_ms}, {"old_servers", run.old_names()}});
  const auto poll = run.config().drain.wait_poll();
  AnalysisRun analysis(run, Step::undo_window);
  for (;;) {
    if (analysis.enabled()) {
      // The new pool alone now: absolute limits decide (max_vs_old has no
      // old pool to compare with). A fail verdict undoes the cutover.
      auto stats = co_await run.fleet_stats(Step::undo_window);
      if (!stats) co_return std::unexpected(stats.error());
      if (auto measured = co_await analysis.poll(*stats); !measured) co_return measured;
    }
    run.poll_journal();
    if (run.abort_asked()) co_return fail(ErrorKind::cancelled, "stopped in the undo window");
    if (run.session().requests().undo) {
      const auto& by = run.session().requests().undo_by;
      progress.undone_by = by.empty() ? std::string("lbctl undo") : by;
      co_return fail(ErrorKind::cancelled, "undone after promotion by " + progress.undone_by);
    }
    const std::int64_t left = progress.undo_until_ms - run.wall_ms();
    if (left <= 0) {
      run.emit(Step::undo_window, EventKind::undo_closed,
               fmt::format("undo window closed: {} may go", fmt::join(run.old_names(), ", ")));
      co_return Result<void>{};
    }
    const auto wait = std::min(poll, std::chrono::milliseconds(left));
    if (analysis.enabled()) {
      // This poll's fleet read already stops on a reload: no second read.
      co_await run.clock().sleep_for(wait);
    } else if (auto slept = co_await run.sleep_watching_reloads(wait, poll); !slept) {
      co_return slept;  // a reload meanwhile: repaired, and the step runs again
    }
  }
}

}  // namespace lbctl
