// The database steps: the backup before migrating, pre/ migrations before the
// new servers take traffic, post/ migrations once every old server is
// detached (the point of no return), and, in maintenance mode, both phases in
// one transaction behind the page.

#include <fmt/format.h>

#include "core/async.hpp"
#include "core/off_loop.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<Result<void>> step_backup(CutoverRun& run) {
  auto& progress = run.progress();
  if (!run.migrator() || !progress.backup_path.empty()) co_return Result<void>{};
  if (!progress.migrations_pending()) {
    run.emit(Step::backup, EventKind::skipped, "no pending migrations: no backup needed");
    co_return Result<void>{};
  }
  if (run.options().no_backup) {
    run.emit(Step::backup, EventKind::skipped, "--no-backup: migrating WITHOUT a backup");
    co_return Result<void>{};
  }
  if (!run.backup()) {
    run.emit(Step::backup, EventKind::skipped, "no migrations.backup configured: migrating without a backup");
    co_return Result<void>{};
  }
  auto path = co_await run.backup()(run.id(), run.row().release);
  if (!path) co_return std::unexpected(path.error().with_context("backup"));
  progress.backup_path = *path;
  if (auto saved = co_await run.save(); !saved) co_return saved;
  run.emit(Step::backup, EventKind::backup, fmt::format("backup written to {}", *path), {{"path", *path}});
  co_return Result<void>{};
}

namespace {

void report_applied(CutoverRun& run, Step step, const db::PhaseReport& report, std::string_view what) {
  if (report.applied.empty()) run.emit(step, EventKind::migrated, fmt::format("no pending {} migrations", what));
  for (const auto& file : report.applied) {
    run.emit(step, EventKind::migrated, fmt::format("applied {} in {} ms", file.label, file.duration.count()),
             {{"file", file.label}, {"sha256", file.sha256}, {"duration_ms", file.duration.count()}});
  }
}

// A migration runs on its own lane (its queries block); meanwhile the loop
// goes on, and the lock's heartbeat with it.
asio::awaitable<Result<db::PhaseReport>> keeping_alive(CutoverRun& run, asio::awaitable<Result<db::PhaseReport>> task) {
  std::optional<Result<db::PhaseReport>> report;
  auto apply = [&]() -> asio::awaitable<bool> {
    report.emplace(co_await on_lane(run.migrations_lane(), std::move(task)));
    co_return true;
  };
  auto beat = [&]() -> asio::awaitable<bool> {
    while (!report) {
      run.poll_journal();
      co_await run.clock().sleep_for(100ms);
    }
    co_return true;
  };
  std::vector<asio::awaitable<bool>> both;
  both.push_back(apply());
  both.push_back(beat());
  co_await when_all(std::move(both));
  co_return std::move(*report);
}

asio::awaitable<Result<void>> migrate(CutoverRun& run, db::Phase phase, Step step) {
  if (!run.migrator()) co_return Result<void>{};
  auto report = co_await keeping_alive(run, run.migrator()->apply(phase, run.id()));
  if (!report) co_return std::unexpected(report.error().with_context(fmt::format("{}-migrations", to_string(phase))));
  report_applied(run, step, *report, to_string(phase));
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> step_pre_migrate(CutoverRun& run) { return migrate(run, db::Phase::pre, Step::pre_migrate); }

asio::awaitable<Result<void>> step_post_migrate(CutoverRun& run) {
  return migrate(run, db::Phase::post, Step::post_migrate);
}

asio::awaitable<Result<void>> step_migrate(CutoverRun& run) {
  if (!run.migrator()) {
    run.emit(Step::migrate, EventKind::migrated, "no migrations configured");
    co_return Result<void>{};
  }
  std::vector<db::Phase> phases;
  phases.push_back(db::Phase::pre);
  phases.push_back(db::Phase::post);
  auto report = co_await keeping_alive(run, run.migrator()->apply_together(phases, run.id()));
  if (!report) co_return std::unexpected(report.error().with_context("migrations (pre and post in one transaction)"));
  report_applied(run, Step::migrate, *report, "pre or post");
  co_return Result<void>{};
}

}  // namespace lbctl
