// Steps 0-4: preflight, backup, pre-migrate, freeze, clone. Nothing on the
// load balancers changes before step 3; a failure here stops the cutover
// without a rollback.

#include <fmt/format.h>

#include "lbctl/plan_report.hpp"
#include "lbctl/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

nlohmann::json lb_snapshot_json(const std::vector<LbState>& lbs) {
  auto out = nlohmann::json::array();
  for (const auto& lb : lbs) {
    auto servers = nlohmann::json::array();
    for (const auto& s : lb.state.stats) {
      const auto* admin = lb.state.admin_of(s.name);
      servers.push_back({{"name", s.name},
                         {"address", s.address},
                         {"status", s.status},
                         {"weight", s.weight},
                         {"id", s.id},
                         {"admin_state", admin ? admin->admin_state : 0u},
                         {"user_weight", admin ? admin->user_weight : 0u},
                         {"sessions", s.sessions()}});
    }
    out.push_back({{"lb", lb.lb}, {"backend", lb.backend}, {"servers", servers}});
  }
  return out;
}

}  // namespace

asio::awaitable<Result<void>> step_preflight(CutoverRun& run) {
  const Config& config = run.config();
  auto report = co_await gather_plan(config, run.d.fleet, run.d.provider, run.d.migrator, run.d.journal, run.id());
  if (!report) co_return fail(report.error().kind, report.error().message);
  const auto& plan = report->plan;
  const auto& lbs = report->lbs;
  if (run.d.migrator) {
    nlohmann::json pending = nlohmann::json::object();
    for (const auto& [phase, files] : report->migrations) pending[phase] = files;
    run.progress["migrations"] = pending;
  }
  run.old_servers = plan.old_servers;
  run.new_servers.clear();
  for (std::size_t i = 0; i < plan.new_names.size(); ++i) {
    run.new_servers.push_back({plan.new_names[i], "", plan.id_of(i)});
  }
  run.store_servers_in_progress();
  run.row.lb_snapshot_json = lb_snapshot_json(lbs).dump();
  run.record_servers(db::Pool::old_pool, "serving");
  if (auto saved = run.save(); !saved) co_return saved;

  std::string capacity;
  for (const auto& step : plan.capacity) {
    capacity += fmt::format("{}{}: {}", capacity.empty() ? "" : "; ", step.step, fmt::join(step.up_per_lb, "/"));
  }
  run.emit(Step::preflight, "plan",
           fmt::format("replacing {} old servers ({}) with {} new ({}) on {} load balancers; servers UP per LB: {}",
                       run.old_servers.size(), fmt::join(run.old_names(), ", "), run.new_servers.size(),
                       fmt::join(run.new_names(), ", "), lbs.size(), capacity),
           {{"old", run.progress["old"]}, {"new", run.progress["new"]}});
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_backup(CutoverRun& run) {
  if (!run.d.migrator) co_return Result<void>{};
  if (run.progress.contains("backup_path")) co_return Result<void>{};
  const auto& pending = run.progress.value("migrations", nlohmann::json::object());
  const bool any = !pending.value("pre", nlohmann::json::array()).empty() ||
                   !pending.value("post", nlohmann::json::array()).empty();
  if (!any) {
    run.emit(Step::backup, "skipped", "no pending migrations: no backup needed");
    co_return Result<void>{};
  }
  if (run.options.no_backup) {
    run.emit(Step::backup, "skipped", "--no-backup: migrating WITHOUT a backup");
    co_return Result<void>{};
  }
  if (!run.d.backup) {
    run.emit(Step::backup, "skipped", "no migrations.backup configured: migrating without a backup");
    co_return Result<void>{};
  }
  auto path = co_await run.d.backup(run.id());
  if (!path) co_return std::unexpected(path.error().with_context("backup"));
  run.progress["backup_path"] = *path;
  if (auto saved = run.save(); !saved) co_return saved;
  run.emit(Step::backup, "backup", fmt::format("backup written to {}", *path), {{"path", *path}});
  co_return Result<void>{};
}

namespace {

asio::awaitable<Result<void>> migrate(CutoverRun& run, db::Phase phase, Step step) {
  if (!run.d.migrator) co_return Result<void>{};
  auto report = co_await run.d.migrator->apply(phase, run.id());
  if (!report) co_return std::unexpected(report.error().with_context(fmt::format("{}-migrations", to_string(phase))));
  if (report->applied.empty()) {
    run.emit(step, "migrated", fmt::format("no pending {} migrations", to_string(phase)));
  }
  for (const auto& file : report->applied) {
    run.emit(step, "migrated", fmt::format("applied {} in {} ms", file.label, file.duration.count()),
             {{"file", file.label}, {"sha256", file.sha256}, {"duration_ms", file.duration.count()}});
  }
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> step_pre_migrate(CutoverRun& run) { return migrate(run, db::Phase::pre, Step::pre_migrate); }

asio::awaitable<Result<void>> step_post_migrate(CutoverRun& run) {
  return migrate(run, db::Phase::post, Step::post_migrate);
}

asio::awaitable<Result<void>> step_freeze(CutoverRun& run) {
  auto frozen = co_await run.d.provider.freeze_scaling();
  if (!frozen) co_return std::unexpected(frozen.error().with_context("freeze scaling"));
  run.progress["frozen"] = true;
  if (auto saved = run.save(); !saved) co_return saved;
  run.emit(Step::freeze, "frozen", "scaling frozen");
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_clone(CutoverRun& run) {
  std::optional<pools::Server> template_server;
  if (!run.old_servers.empty()) template_server = run.old_servers.front();
  auto cloned = co_await run.d.provider.clone(run.new_names(), template_server);
  if (!cloned) co_return std::unexpected(cloned.error().with_context("clone"));
  if (cloned->size() != run.new_servers.size()) {
    co_return fail(ErrorKind::invalid, fmt::format("clone: the provider returned {} servers for {} names",
                                                   cloned->size(), run.new_servers.size()));
  }
  for (std::size_t i = 0; i < cloned->size(); ++i) {
    if ((*cloned)[i].name != run.new_servers[i].name || !pools::parse_address((*cloned)[i].address)) {
      co_return fail(ErrorKind::invalid,
                     fmt::format("clone: the provider returned server '{}' where {} with a HOST:PORT address was "
                                 "expected",
                                 (*cloned)[i].name, run.new_servers[i].name));
    }
    run.new_servers[i].address = (*cloned)[i].address;
  }
  run.store_servers_in_progress();
  if (auto saved = run.save(); !saved) co_return saved;
  run.record_servers(db::Pool::new_pool, "cloned");
  std::string list;
  for (const auto& s : run.new_servers) list += fmt::format("{}{}={}", list.empty() ? "" : ", ", s.name, s.address);
  run.emit(Step::clone, "cloned", "cloned " + list, {{"new", run.progress["new"]}});
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_unfreeze(CutoverRun& run) {
  auto unfrozen = co_await run.d.provider.unfreeze_scaling();
  if (!unfrozen) co_return std::unexpected(unfrozen.error().with_context("unfreeze scaling"));
  run.progress["frozen"] = false;
  if (auto saved = run.save(); !saved) co_return saved;
  run.emit(Step::unfreeze, "unfrozen", "scaling unfrozen");
  co_return Result<void>{};
}

}  // namespace lbctl
