// The ways into a cutover: a new one, taking over an interrupted one to
// finish it (resume) or to roll it back (abort), and the rollback itself.

#include "lbctl/cutover/cutover.hpp"

#include <fmt/format.h>

#include "core/duration.hpp"

#include "lbctl/config/config_snapshot.hpp"
#include "lbctl/cutover/agent.hpp"
#include "lbctl/cutover/drive.hpp"
#include "lbctl/cutover/hooks.hpp"
#include "lbctl/cutover/journal_calls.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<CutoverOutcome> roll_back_run(CutoverRun& run, std::string reason) {
  auto& progress = run.progress();
  if (progress.failure.step.empty()) progress.failure = {run.row().step, reason};
  run.emit(Step::rollback, EventKind::rolling_back, "rolling back: " + reason, {{"reason", reason}});
  if (auto entered = co_await run.enter(Step::rollback); !entered) co_return journal_failed(run, entered.error());
  run.be_patient();
  // The rollback ensures everything it needs itself: a reload mid-way only
  // means running it again.
  std::function<asio::awaitable<Result<void>>()> attempt = [&run]() { return roll_back(run); };
  std::function<void(const std::vector<std::string>&)> again = [&run](const std::vector<std::string>&) {
    run.emit(Step::rollback, EventKind::reloaded, "a load balancer reloaded during the rollback: rolling back again");
  };
  const Result<void> rolled = co_await retry_through_reloads(run, std::move(attempt), std::move(again));
  if (run.lost_lock()) co_return lost_lock(run);
  const std::string original = progress.failure.message.empty() ? reason : progress.failure.message;
  if (!rolled) {
    const std::string message = fmt::format("rollback failed: {} (after: {}); run `lbctl abort` to retry the rollback",
                                            rolled.error().message, original);
    co_await finish(run, db::CutoverStatus::needs_operator, message);
    run.emit(Step::rollback, EventKind::failed, message);
    co_return outcome(run, Outcome::needs_operator, message);
  }
  co_await record_lbs(run, Step::rollback);
  std::string hook_name = "on_rollback";
  if (auto hooked = co_await run_hook(run, run.config().hooks.on_rollback, std::move(hook_name), Step::rollback); !hooked) {
    run.emit(Step::rollback, EventKind::warning, hooked.error().message);
  }
  co_await finish(run, db::CutoverStatus::rolled_back, original);
  run.emit(Step::rollback, EventKind::rolled_back, "rolled back: " + original);
  co_return outcome(run, Outcome::failed, "rolled back: " + original);
}

namespace {

// The journal itself refused (locked, unreachable, nothing to resume).
CutoverOutcome journal_refusal(const Error& error) { return CutoverOutcome{outcome_for(error.kind), 0, error.message}; }

// True when a migration the cutover found pending at preflight has been
// applied since (so abort cannot undo it).
bool migrations_committed(CutoverRun& run) {
  if (!run.migrator()) return false;
  for (auto phase : {db::Phase::pre, db::Phase::post}) {
    const auto recorded = run.progress().migrations.find(std::string(db::to_string(phase)));
    const std::size_t was = recorded == run.progress().migrations.end() ? 0 : recorded->second.size();
    auto plan = run.migrator()->plan(phase);
    if (!plan) return true;  // cannot tell: assume the worst
    const bool counts = phase == db::Phase::post || run.config().mode == CutoverMode::maintenance;
    if (counts && plan->pending.size() < was) return true;
  }
  return false;
}

// abort of a run whose process is gone: refused past the point of no return;
// before any change, nothing to undo.
asio::awaitable<CutoverOutcome> abort_taken_over(CutoverRun& run, Step step) {
  const Flow flow = flow_with(run.config(), step);
  if (flow.past_no_return(step) || (step == flow.commits_migrations() && migrations_committed(run))) {
    co_return outcome(run, Outcome::needs_operator,
                      fmt::format("cutover {} is past the point of no return (step {}): its migrations committed; run "
                                  "`lbctl resume` to finish it",
                                  run.id(), run.row().step));
  }
  if (flow.before_changes(step)) {
    co_await finish(run, db::CutoverStatus::stopped, "aborted before any change");
    run.emit(step, EventKind::rolled_back, "aborted before any change to the load balancers");
    co_return outcome(run, Outcome::failed, "aborted before any change");
  }
  co_return co_await roll_back_run(run, "aborted by `lbctl abort`");
}

// Nothing to take over: how the service's last cutover ended, with that
// outcome's exit code (a resume after a crash that came just after the end
// is told the end, not a usage error); invalid when it never had one.
CutoverOutcome already_ended(const Result<std::optional<db::Cutover>>& last, const std::string& service,
                             const Error& refusal, bool roll_back_it) {
  if (!last || !*last) return journal_refusal(refusal);
  const db::Cutover& c = **last;
  const std::string ended = c.finished_at ? " at " + db::format_utc(*c.finished_at) : std::string();
  if (c.status == db::CutoverStatus::completed) {
    return CutoverOutcome{roll_back_it ? Outcome::usage : Outcome::done, c.id,
                          fmt::format("cutover {} of service {} already completed{}: nothing to {}", c.id, service,
                                      ended, roll_back_it ? "roll back (it is past the point of no return)" : "resume")};
  }
  if (c.status == db::CutoverStatus::rolled_back || c.status == db::CutoverStatus::stopped) {
    return CutoverOutcome{Outcome::failed, c.id,
                          fmt::format("cutover {} of service {} {}{}{}: nothing to {}", c.id, service,
                                      c.status == db::CutoverStatus::stopped ? "stopped before any change"
                                                                            : "was already rolled back",
                                      ended, c.error.empty() ? "" : " (" + c.error + ")",
                                      roll_back_it ? "roll back" : "resume")};
  }
  return journal_refusal(refusal);
}

// A resume must go on from the journaled step: when the config no longer
// has it, starting elsewhere would act on a half-cut fleet as if it were
// whole. Refused before anything changes (exit 2); abort still rolls it back.
std::optional<CutoverOutcome> step_gone(const CutoverDeps& deps, const Result<std::optional<db::Cutover>>& latest) {
  if (!latest || !*latest || db::is_finished((*latest)->status)) return std::nullopt;
  const db::Cutover& c = **latest;
  const auto why = missing_from_flow(c.step, deps.config);
  if (!why) return std::nullopt;
  return CutoverOutcome{Outcome::usage, c.id,
                        fmt::format("cutover {} stopped at step {}, which this config's flow does not have: {}; "
                                    "nothing changed. Resume it with the config it started with (`lbctl status "
                                    "--json` shows its snapshot), or `lbctl abort` to roll it back",
                                    c.id, c.step, *why)};
}

// A running cutover whose runner beat less than a lease ago may still be
// alive, cut off from the state database: it has stopped acting only once
// its lease ran out, so that is waited for (it is at most state.lease).
asio::awaitable<Result<void>> wait_out_lease(CutoverDeps& deps) {
  bool told = false;
  for (;;) {
    auto left = co_await JournalCalls(deps).lease_left(deps.config.service);
    if (!left) co_return std::unexpected(left.error());
    if (left->count() == 0) co_return Result<void>{};
    if (!told) {
      Event e;
      e.time = deps.clock.wall_now();
      e.step = std::string(to_string(Step::preflight));
      e.kind = EventKind::waiting;
      e.text = fmt::format("waiting {} for the lease of service {}'s cutover to run out: its runner may still be "
                           "alive, cut off from the state database",
                           format_duration(*left), deps.config.service);
      e.journal = false;
      deps.events.emit(e);
      told = true;
    }
    co_await deps.clock.sleep_for(std::min<std::chrono::milliseconds>(*left + std::chrono::milliseconds(50), std::chrono::seconds(1)));
  }
}

// Why an agent could take `before` over: its runner's lease ran out, or its
// runner gave it up (stopped, or left it for `lbctl resume`).
std::string takeover_reason(const db::Cutover& before) {
  if (before.owner_token.empty()) return "its runner gave it up";
  if (before.status == db::CutoverStatus::needs_operator) return "it needed an operator";
  return fmt::format("the lease of its runner ({} pid {}, last heard of at {}) ran out", before.host, before.pid,
                     db::format_utc(before.heartbeat_at));
}

asio::awaitable<CutoverOutcome> take_over(CutoverDeps deps, bool roll_back_it) {
  const JournalCalls journal(deps);
  const auto latest = co_await journal.latest(deps.config.service);
  if (!roll_back_it) {
    if (auto gone = step_gone(deps, latest)) co_return *gone;
  }
  if (auto waited = co_await wait_out_lease(deps); !waited) co_return journal_refusal(waited.error());
  auto row = co_await journal.adopt(deps.config.service, deps.host, deps.pid);
  if (!row && row.error().kind == ErrorKind::invalid) {
    const auto now_latest = co_await journal.latest(deps.config.service);
    co_return already_ended(now_latest, deps.config.service, row.error(), roll_back_it);
  }
  if (!row) co_return journal_refusal(row.error());
  auto progress = read_progress(row->progress_json);
  if (!progress) {
    co_await journal.release();
    co_return CutoverOutcome{Outcome::needs_operator, row->id, fmt::format("cutover {}: {}", row->id, progress.error().message)};
  }
  CutoverRun run(deps, CutoverOptions{}, std::move(*row), std::move(*progress));
  // Compared as JSON: the state database stores it as jsonb, which orders
  // the keys and spacing its own way.
  if (nlohmann::json::parse(run.row().config_json, nullptr, false) != config_snapshot(deps.config)) {
    run.emit(Step::preflight, EventKind::warning,
             "the config differs from the one this cutover started with; continuing with the current file");
  }
  const auto step = parse_step(run.row().step).value_or(Step::preflight);
  // Look at the load balancers before touching anything.
  auto view = co_await run.fleet_stats(step);
  if (!view) {
    co_await journal.release();
    co_return outcome(run, Outcome::unreachable, view.error().message);
  }
  run.set_running();
  if (!deps.agent.empty() && latest && *latest && (*latest)->id == run.id()) {
    const db::Cutover& before = **latest;
    const std::string reason = takeover_reason(before);
    run.emit(step, EventKind::taken_over,
             fmt::format("cutover {} taken over by {} at step {}: {}", run.id(), deps.agent, run.row().step, reason),
             {{"agent", deps.agent}, {"from_host", before.host}, {"from_pid", before.pid}, {"reason", reason}});
  }
  run.emit(step, roll_back_it ? EventKind::abort : EventKind::resume,
           fmt::format("{} cutover {} at step {}", roll_back_it ? "rolling back" : "resuming", run.id(), run.row().step));
  CutoverOutcome result;
  if (step == Step::rollback) {
    // Named first: GCC 12 frees a ?: temporary inside co_await twice.
    std::string reason = run.row().error.empty() ? std::string("resumed rollback") : run.row().error;
    result = co_await roll_back_run(run, std::move(reason));
  } else if (roll_back_it) {
    result = co_await abort_taken_over(run, step);
  } else {
    result = co_await drive(run, step, true);
  }
  co_await journal.release();
  co_return result;
}

}  // namespace

asio::awaitable<CutoverOutcome> run_cutover(CutoverDeps deps, CutoverOptions options) {
  db::NewCutover request;
  request.service = deps.config.service;
  request.host = deps.host;
  request.pid = deps.pid;
  request.mode = std::string(to_string(deps.config.mode));
  request.config_json = config_snapshot(deps.config).dump();
  request.step = std::string(to_string(Step::preflight));
  request.release = deps.release;
  request.request_id = deps.request_id;
  request.agent = deps.agent;
  const JournalCalls journal(deps);
  auto row = co_await journal.begin(request);
  if (!row) co_return journal_refusal(row.error());
  CutoverRun run(deps, options, std::move(*row));
  nlohmann::json started = {{"release", run.row().release}, {"old_release", run.row().old_release}};
  if (deps.request_id != 0) {
    started["request_id"] = deps.request_id;
    started["agent"] = deps.agent;
  }
  run.emit(Step::preflight, EventKind::started,
           fmt::format("cutover {} of service {} started on {} (pid {}): release {}{}{}", run.id(), deps.config.service,
                       deps.host, deps.pid, run.row().release,
                       run.row().old_release.empty() ? "" : " replacing " + run.row().old_release,
                       deps.request_id == 0 ? std::string()
                                            : fmt::format(", for request {} taken by {}", deps.request_id, deps.agent)),
           std::move(started));
  for (const auto& warning : config_warnings(deps.config)) run.emit(Step::preflight, EventKind::warning, warning);
  if (!deps.request_digest.empty() && deps.request_digest != config_digest(deps.config)) {
    run.emit(Step::preflight, EventKind::warning,
             fmt::format("request {} was submitted with another config than {}'s (sha256 {}, this one {}): the "
                         "agent's config is the one run",
                         deps.request_id, deps.agent, deps.request_digest.substr(0, 12),
                         config_digest(deps.config).substr(0, 12)));
  }
  auto result = co_await drive(run, Step::preflight, false);
  co_await journal.release();
  co_return result;
}

asio::awaitable<CutoverOutcome> resume_cutover(CutoverDeps deps) { return take_over(std::move(deps), false); }

asio::awaitable<CutoverOutcome> rollback_cutover(CutoverDeps deps) { return take_over(std::move(deps), true); }

}  // namespace lbctl
