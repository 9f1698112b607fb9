#include "lbctl/cli/restore.hpp"

#include <nlohmann/json.hpp>

#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cutover/maintenance.hpp"
#include "lbctl/cli/restore_report.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

std::unexpected<RestoreFailure> failure(const Error& e, std::string_view where = "") {
  return std::unexpected(RestoreFailure{exit_code_for(e), where.empty() ? e.message : e.with_context(where).message});
}

// The backup's path, as the cutover's backup step journaled it.
std::optional<std::string> backup_path_of(const db::Cutover& cutover) {
  const auto progress = nlohmann::json::parse(cutover.progress_json, nullptr, false);
  if (!progress.is_object() || !progress.contains("backup_path") || !progress["backup_path"].is_string()) {
    return std::nullopt;
  }
  return progress["backup_path"].get<std::string>();
}

// True when every LB already shows the page (an operator turned it on).
asio::awaitable<Result<bool>> page_is_on(pools::Fleet& fleet, std::string map) {
  if (auto known = co_await check_maintenance_map(fleet, map); !known) co_return std::unexpected(known.error());
  auto read = [map](pools::LoadBalancer& lb) { return lb.map_value(map, k_maintenance_key); };
  auto values = co_await fleet.all<std::optional<std::string>>(read);
  if (!values) co_return std::unexpected(values.error());
  co_return std::all_of(values->begin(), values->end(), [](const auto& v) { return v.has_value(); });
}

// Turns the page on unless every LB shows it already; true when this call
// turned it on (so a failed restore turns it off again).
asio::awaitable<Result<bool>> page_on_for_restore(RestoreDeps deps) {
  const MaintenanceConfig& page = *deps.config.maintenance;
  auto was_on = co_await page_is_on(deps.fleet, page.map);
  if (!was_on) co_return std::unexpected(was_on.error());
  if (*was_on) co_return false;
  const std::string text = maintenance_text(page.message, page.duration, deps.clock.wall_now());
  if (auto on = co_await maintenance_on(deps.fleet, page.map, text); !on) co_return std::unexpected(on.error());
  co_return true;
}

int exit_code_of_restore(const Error& e) {
  // The connection broke mid-restore: nobody knows whether it committed.
  if (e.kind == ErrorKind::cancelled) return k_exit_operator;
  if (e.kind == ErrorKind::timeout) return k_exit_failed;
  return exit_code_for(e);
}

}  // namespace

asio::awaitable<std::expected<PreparedRestore, RestoreFailure>> prepare_restore(RestoreDeps deps,
                                                                                std::int64_t cutover_id,
                                                                                RestoreWho who) {
  auto cutover = deps.journal.get(cutover_id);
  if (!cutover) co_return failure(cutover.error(), "journal");
  if (cutover->service != deps.config.service) {
    co_return std::unexpected(RestoreFailure{k_exit_usage, "cutover " + std::to_string(cutover_id) +
                                                               " belongs to service " + cutover->service + ", not to " +
                                                               deps.config.service + " (the config's)"});
  }
  const auto path = backup_path_of(*cutover);
  if (!path) {
    co_return std::unexpected(
        RestoreFailure{k_exit_usage, "cutover " + std::to_string(cutover_id) +
                                         " took no backup (no migrations were pending, it ran with --no-backup, or "
                                         "migrations.backup was not configured): there is nothing to restore from"});
  }
  // No cutover may run, or wait for an operator, while its database goes back.
  if (auto locked = deps.journal.lock_service(deps.config.service, who.host, who.pid); !locked) {
    co_return failure(locked.error());
  }
  auto preview = co_await deps.database.preview(*path);
  if (!preview) co_return failure(preview.error());
  co_return PreparedRestore{std::move(*cutover), std::move(*preview)};
}

asio::awaitable<RestoreOutcome> run_restore(RestoreDeps deps, PreparedRestore prepared, RestoreWho who) {
  RestoreOutcome out;
  const db::RestorePreview& preview = prepared.preview;
  auto begun = deps.journal.begin_restore({deps.config.service, prepared.cutover.id, preview.file.string(),
                                           preview.archive.created_at, who.run_by, who.host, who.pid});
  if (!begun) {
    out.exit_code = exit_code_for(begun.error());
    out.message = "journal: " + begun.error().message;
    co_return out;
  }
  out.restore_id = begun->id;
  auto finish = [&](db::RestoreStatus status, const std::string& error) {
    const auto detail = restore_json(preview, out.report).dump();
    if (auto saved = deps.journal.finish_restore(out.restore_id, status, error, detail); !saved) {
      out.message += (out.message.empty() ? "" : "; ") + ("journal: " + saved.error().message);
    }
  };

  const auto& page = deps.config.maintenance;
  bool turned_on = false;
  if (page && !page->map.empty()) {
    auto on = co_await page_on_for_restore(deps);
    if (!on) {
      out.exit_code = exit_code_for(on.error());
      out.message = "maintenance page: " + on.error().message + "; nothing restored";
      finish(db::RestoreStatus::failed, out.message);
      co_return out;
    }
    turned_on = *on;
    out.page_was_on = !turned_on;
    out.page_on = true;
  }

  auto report = co_await deps.database.restore(preview);
  if (!report) {
    out.exit_code = exit_code_of_restore(report.error());
    out.message = report.error().message;
    // The database is as it was: so is the site, unless nobody knows.
    if (turned_on && report.error().kind != ErrorKind::cancelled) {
      if (auto off = co_await maintenance_off(deps.fleet, page->map); off) {
        out.page_on = false;
      } else {
        out.exit_code = k_exit_operator;
        out.message += "; the maintenance page stays on: " + off.error().message;
      }
    }
    finish(db::RestoreStatus::failed, out.message);
    co_return out;
  }
  out.report = std::move(*report);
  finish(db::RestoreStatus::done, "");
  co_return out;
}

}  // namespace lbctl
