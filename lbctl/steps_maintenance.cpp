// The steps only a maintenance-mode cutover has (seed 000): the 503 page on
// every LB, and pre and post migrations in one transaction behind it.

#include <fmt/format.h>

#include "lbctl/maintenance.hpp"
#include "lbctl/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<Result<void>> step_maintenance_on(CutoverRun& run) {
  const auto& page = run.config().maintenance;
  if (!page || page->map.empty()) co_return fail(ErrorKind::invalid, "mode: maintenance needs maintenance.map");
  // Journaled first: a rollback after a crash here turns the page off.
  run.progress["maintenance_on"] = true;
  if (auto saved = run.save(); !saved) co_return saved;
  if (!run.progress.contains("maintenance_text")) {
    run.progress["maintenance_text"] = maintenance_text(page->message, page->duration, run.d.clock.wall_now());
    if (auto saved = run.save(); !saved) co_return saved;
  }
  const std::string text = run.progress["maintenance_text"].get<std::string>();
  if (auto on = co_await maintenance_on(run.d.fleet, page->map, text); !on) co_return on;
  run.emit(Step::maintenance_on, "maintenance_on", fmt::format("maintenance page on every LB: \"{}\"", text),
           {{"text", text}});
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_migrate(CutoverRun& run) {
  if (!run.d.migrator) {
    run.emit(Step::migrate, "migrated", "no migrations configured");
    co_return Result<void>{};
  }
  std::vector<db::Phase> phases;
  phases.push_back(db::Phase::pre);
  phases.push_back(db::Phase::post);
  auto report = co_await run.d.migrator->apply_together(phases, run.id());
  if (!report) co_return std::unexpected(report.error().with_context("migrations (pre and post in one transaction)"));
  if (report->applied.empty()) run.emit(Step::migrate, "migrated", "no pending migrations");
  for (const auto& file : report->applied) {
    run.emit(Step::migrate, "migrated", fmt::format("applied {} in {} ms", file.label, file.duration.count()),
             {{"file", file.label}, {"sha256", file.sha256}, {"duration_ms", file.duration.count()}});
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_maintenance_off(CutoverRun& run) {
  const auto& page = run.config().maintenance;
  if (page && !page->map.empty()) {
    if (auto off = co_await maintenance_off(run.d.fleet, page->map); !off) co_return off;
  }
  run.progress["maintenance_on"] = false;
  if (auto saved = run.save(); !saved) co_return saved;
  run.emit(Step::maintenance_off, "maintenance_off", "maintenance page off: traffic flows to the new servers");
  co_return Result<void>{};
}

}  // namespace lbctl
