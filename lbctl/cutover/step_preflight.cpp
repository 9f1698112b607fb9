// preflight: everything a cutover needs to know before it changes anything
// (the plan: the old pool, the new names and ids, the capacity at each
// step), saved so a resumed run knows it, and every LB's backend as it was,
// so a rollback can put it back.

#include <fmt/format.h>

#include "lbctl/cutover/journal_calls.hpp"
#include "lbctl/cutover/plan_report.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

std::vector<LbSnapshot> snapshot_of(const std::vector<LbState>& lbs) {
  std::vector<LbSnapshot> snapshot;
  for (const auto& lb : lbs) {
    LbSnapshot entry{lb.lb, lb.backend, {}};
    for (const auto& s : lb.state.stats) {
      const auto* admin = lb.state.admin_of(s.name);
      entry.servers.push_back({s.name, s.address, s.status, s.weight, s.id, admin ? admin->admin_state : 0u,
                               admin ? admin->user_weight : 0u, s.sessions()});
    }
    snapshot.push_back(std::move(entry));
  }
  return snapshot;
}

std::string capacity_text(const CutoverPlan& plan) {
  std::vector<std::string> steps;
  for (const auto& step : plan.capacity) steps.push_back(fmt::format("{}: {}", step.step, fmt::join(step.up_per_lb, "/")));
  return fmt::format("{}", fmt::join(steps, "; "));
}

}  // namespace

asio::awaitable<Result<void>> step_preflight(CutoverRun& run) {
  const auto first_id = co_await JournalCalls(run.deps()).id_floor(run.config().service, run.id());
  auto report = co_await gather_plan(run.config(), run.fleet(), run.provider(), run.migrator(), first_id,
                                     run.row().release);
  if (!report) co_return fail(report.error().kind, report.error().message);
  const auto& plan = report->plan;
  auto& progress = run.progress();
  if (run.migrator()) progress.migrations = report->migrations;
  progress.old_pool.clear();
  for (const auto& s : plan.old_servers) progress.old_pool.push_back({s.name, s.address, 0});
  progress.new_pool.clear();
  for (std::size_t i = 0; i < plan.new_names.size(); ++i) progress.new_pool.push_back({plan.new_names[i], "", plan.id_of(i)});
  // Journaled even when empty (dynamic cookies, or none): a resume never
  // falls back to a new_pool.cookie changed since.
  progress.cookie_rule = report->cookie_rule.empty() ? std::string(k_no_cookie_rule) : report->cookie_rule;
  run.set_lb_snapshot(nlohmann::json(snapshot_of(report->lbs)).dump());
  run.record_servers(db::Pool::old_pool, "serving");
  if (auto saved = co_await run.save(); !saved) co_return saved;
  for (const auto& warning : report->fleet_warnings) run.emit(Step::preflight, EventKind::warning, warning);
  std::vector<std::string> left_alone;
  for (const auto& s : plan.left_out) left_alone.push_back(fmt::format("{} ({})", s.name, s.why));
  run.emit(Step::preflight, EventKind::plan,
           fmt::format("replacing {} old servers ({}) with {} new ({}) on {} load balancers; servers UP per LB: {}{}",
                       progress.old_pool.size(), fmt::join(run.old_names(), ", "), progress.new_pool.size(),
                       fmt::join(run.new_names(), ", "), report->lbs.size(), capacity_text(plan),
                       left_alone.empty() ? "" : fmt::format("; left alone: {}", fmt::join(left_alone, ", "))),
           {{"old", progress.old_pool}, {"new", progress.new_pool}, {"left_alone", left_alone}});
  co_return Result<void>{};
}

}  // namespace lbctl
