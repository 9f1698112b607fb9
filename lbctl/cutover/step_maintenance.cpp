// The steps only a maintenance-mode cutover has: the 503 page on every LB
// (for schema changes old code cannot survive), and off again once the new
// pool serves. The migrations behind it are step_migrate.cpp's.

#include <fmt/format.h>

#include "lbctl/cutover/maintenance.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<Result<void>> step_maintenance_on(CutoverRun& run) {
  const auto& page = run.config().maintenance;
  if (!page || page->map.empty()) co_return fail(ErrorKind::invalid, "mode: maintenance needs maintenance.map");
  auto& progress = run.progress();
  // Journaled first: a rollback after a crash here turns the page off. The
  // text too, so a resumed run (or a re-ensure after a reload) shows the same end time.
  progress.maintenance_on = true;
  if (progress.maintenance_text.empty()) {
    progress.maintenance_text = maintenance_text(page->message, page->duration, run.clock().wall_now());
  }
  if (auto saved = co_await run.save(); !saved) co_return saved;
  const std::string text = progress.maintenance_text;
  if (auto on = co_await maintenance_on(run.fleet(), page->map, text); !on) co_return on;
  run.emit(Step::maintenance_on, EventKind::maintenance_on, fmt::format("maintenance page on every LB: \"{}\"", text),
           {{"text", text}});
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_maintenance_off(CutoverRun& run) {
  const auto& page = run.config().maintenance;
  if (page && !page->map.empty()) {
    if (auto off = co_await maintenance_off(run.fleet(), page->map); !off) co_return off;
  }
  run.progress().maintenance_on = false;
  if (auto saved = co_await run.save(); !saved) co_return saved;
  run.emit(Step::maintenance_off, EventKind::maintenance_off, "maintenance page off: traffic flows to the new servers");
  co_return Result<void>{};
}

}  // namespace lbctl
