// The controller: a flat, ordered list of steps (argo-rollouts' style). Each
// step is journaled before it starts; on failure the step's place decides:
// before freeze, stop (nothing to undo); freeze to detach, roll back; after
// detach, stop for an operator (post-migrations are the point of no return).

#include "lbctl/cutover.hpp"

#include <fmt/format.h>

#include "lbctl/config_snapshot.hpp"
#include "lbctl/cutover_run.hpp"
#include "lbctl/exit_codes.hpp"
#include "lbctl/fleet_look.hpp"
#include "lbctl/flow.hpp"
#include "lbctl/hooks.hpp"
#include "lbctl/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

constexpr std::array k_steps = {
    std::pair{Step::preflight, "preflight"},     std::pair{Step::backup, "backup"},
    std::pair{Step::pre_migrate, "pre_migrate"}, std::pair{Step::freeze, "freeze"},
    std::pair{Step::clone, "clone"},             std::pair{Step::verify, "verify"},
    std::pair{Step::attach, "attach"},           std::pair{Step::stages, "stages"},
    std::pair{Step::drain, "drain"},             std::pair{Step::watch, "watch"},
    std::pair{Step::detach, "detach"},           std::pair{Step::post_migrate, "post_migrate"},
    std::pair{Step::unfreeze, "unfreeze"},       std::pair{Step::terminate, "terminate"},
    std::pair{Step::rollback, "rollback"},       std::pair{Step::maintenance_on, "maintenance_on"},
    std::pair{Step::migrate, "migrate"},         std::pair{Step::maintenance_off, "maintenance_off"},
};

using StepFunction = asio::awaitable<Result<void>> (*)(CutoverRun&);

StepFunction function_of(Step step) {
  switch (step) {
    case Step::preflight: return step_preflight;
    case Step::backup: return step_backup;
    case Step::pre_migrate: return step_pre_migrate;
    case Step::freeze: return step_freeze;
    case Step::clone: return step_clone;
    case Step::verify: return step_verify;
    case Step::attach: return step_attach;
    case Step::stages: return step_stages;
    case Step::drain: return step_drain;
    case Step::watch: return step_watch;
    case Step::detach: return step_detach;
    case Step::post_migrate: return step_post_migrate;
    case Step::unfreeze: return step_unfreeze;
    case Step::terminate: return step_terminate;
    case Step::maintenance_on: return step_maintenance_on;
    case Step::migrate: return step_migrate;
    case Step::maintenance_off: return step_maintenance_off;
    case Step::rollback: return nullptr;
  }
  return nullptr;
}

// A reload can strike any number of times; past this many in one step,
// something keeps reloading the LB and a person should look.
constexpr int k_max_reloads_per_step = 20;

// A step can fail because of a reload it did not read: a batch answered by
// the old worker as it hands over ("Proxy is disabled"), a server the reload
// took away ("no server"). True when an LB was reloaded since the mark.
asio::awaitable<bool> reloaded_meanwhile(CutoverRun& run) {
  auto reloaded = co_await run.look_for_reloads();
  co_return reloaded && !reloaded->empty();
}

// Runs the step's function. An LB reloaded (or restarted) before or during
// it gets back what the steps before had left there, and the step, an
// ensure, runs again.
asio::awaitable<Result<void>> run_through_reloads(CutoverRun& run, Step step, bool reensure) {
  for (int reloads = 0;; ++reloads) {
    if (step != Step::preflight) {
      auto reloaded = co_await run.look_for_reloads();
      if (!reloaded) co_return std::unexpected(reloaded.error());
      if (!reloaded->empty()) {
        run.emit(step, "reloaded",
                 fmt::format("{} reloaded or restarted during {}: ensuring again what lbctl had left there",
                             fmt::join(*reloaded, ", "), to_string(step)),
                 {{"load_balancers", *reloaded}});
        reensure = true;
      }
    }
    run.mark_reloads();
    Result<void> result;
    if (reensure) result = co_await reensure_after_reload(run, step);
    if (result) {
      reensure = false;
      result = co_await function_of(step)(run);
    }
    if (result || reloads >= k_max_reloads_per_step) co_return result;
    if (!run.reload_interrupted()) {
      const bool reloaded = co_await reloaded_meanwhile(run);
      if (!reloaded) co_return result;
    }
  }
}

// Once every step is done: one more look, in case an LB reloaded during the
// last steps (after their own reads).
asio::awaitable<Result<void>> run_through_reloads_at_end(CutoverRun& run) {
  const Step last = flow_for(run.config()).steps.back();
  for (int reloads = 0;; ++reloads) {
    auto reloaded = co_await run.look_for_reloads();
    if (!reloaded) co_return std::unexpected(reloaded.error());
    if (reloaded->empty()) co_return Result<void>{};
    run.emit(last, "reloaded",
             fmt::format("{} reloaded or restarted: ensuring again what the cutover left there", fmt::join(*reloaded, ", ")),
             {{"load_balancers", *reloaded}});
    run.mark_reloads();
    auto again = co_await reensure_after_reload(run, last);
    if (!again && (!run.reload_interrupted() || reloads >= k_max_reloads_per_step)) co_return again;
  }
}

// What every LB holds now, recorded as what lbctl left there: drift is
// measured against it, and `lbctl reconcile` restores it.
asio::awaitable<void> record_lbs(CutoverRun& run, Step step) {
  if (run.lost_lock()) co_return;
  auto recorded = co_await record_fleet(run.d.fleet, run.d.journal, run.config().service, run.id());
  if (!recorded) run.emit(step, "warning", "could not record what the load balancers hold: " + recorded.error().message);
}

CutoverOutcome outcome(CutoverRun& run, int exit_code, std::string message) {
  return CutoverOutcome{exit_code, run.id(), std::move(message)};
}

// Saves the final status; the run ends either way.
void finish(CutoverRun& run, db::CutoverStatus status, const std::string& error) {
  run.row.status = status;
  run.row.error = error;
  if (auto saved = run.save(); !saved) {
    run.emit(Step::rollback, "warning", "could not journal the outcome: " + saved.error().message);
  }
}

// What the fleet looks like when a step after the rollback range fails.
std::string operator_situation(const Config& config, const Flow& flow, Step step) {
  if (config.mode == CutoverMode::maintenance && !flow.past_no_return(step)) {
    return "the migrations did not commit";
  }
  if (config.mode == CutoverMode::maintenance && flow.index_of(step) < flow.index_of(Step::maintenance_off)) {
    return "the migrations committed, so the old servers cannot take traffic again; maintenance stays on";
  }
  return "the old servers are detached, not terminated";
}

// True when a migration the cutover found pending at preflight has been
// applied since (so abort cannot undo it).
bool migrations_committed(CutoverRun& run) {
  if (!run.d.migrator) return false;
  const auto recorded = run.progress.value("migrations", nlohmann::json::object());
  for (auto phase : {db::Phase::pre, db::Phase::post}) {
    const auto name = std::string(db::to_string(phase));
    const auto was = recorded.value(name, nlohmann::json::array()).size();
    auto plan = run.d.migrator->plan(phase);
    if (!plan) return true;  // cannot tell: assume the worst
    if (phase == db::Phase::post || run.config().mode == CutoverMode::maintenance) {
      if (plan->pending.size() < was) return true;
    }
  }
  return false;
}

CutoverOutcome lost_lock(CutoverRun& run) {
  return outcome(run, k_exit_operator,
                 "lost the service lock (the state database connection broke): stopped; run `lbctl resume` to finish");
}

// The journal refused a write: without it a crash could not be resumed, so stop here.
CutoverOutcome journal_failed(CutoverRun& run, const Error& error) {
  if (run.lost_lock() || error.kind == ErrorKind::conflict) return lost_lock(run);
  return outcome(run, k_exit_operator,
                 "could not journal the next step (" + error.message + "): stopped; run `lbctl resume` to finish");
}

asio::awaitable<CutoverOutcome> do_rollback(CutoverRun& run, std::string reason) {
  if (!run.progress.contains("failure")) {
    run.progress["failure"] = {{"step", run.row.step}, {"message", reason}};
  }
  run.emit(Step::rollback, "rolling_back", "rolling back: " + reason, {{"reason", reason}});
  if (auto entered = run.enter(Step::rollback); !entered) co_return journal_failed(run, entered.error());
  run.be_patient();
  Result<void> rolled;
  for (int reloads = 0;; ++reloads) {
    // The rollback ensures everything it needs itself: a reload mid-way only
    // means running it again.
    run.mark_reloads();
    rolled = co_await roll_back(run);
    if (rolled || reloads >= k_max_reloads_per_step) break;
    if (!run.reload_interrupted()) {
      const bool reloaded = co_await reloaded_meanwhile(run);
      if (!reloaded) break;
    }
    run.emit(Step::rollback, "reloaded", "a load balancer reloaded during the rollback: rolling back again");
  }
  if (run.lost_lock()) co_return lost_lock(run);
  const std::string original = run.progress["failure"].value("message", reason);
  if (!rolled) {
    const std::string message = fmt::format("rollback failed: {} (after: {}); run `lbctl abort` to retry the rollback",
                                            rolled.error().message, original);
    finish(run, db::CutoverStatus::needs_operator, message);
    run.emit(Step::rollback, "failed", message);
    co_return outcome(run, k_exit_operator, message);
  }
  co_await record_lbs(run, Step::rollback);
  if (auto hooked = co_await run_hook(run, run.config().hooks.on_rollback, "on_rollback", Step::rollback); !hooked) {
    run.emit(Step::rollback, "warning", hooked.error().message);
  }
  finish(run, db::CutoverStatus::rolled_back, original);
  run.emit(Step::rollback, "rolled_back", "rolled back: " + original);
  co_return outcome(run, k_exit_failed, "rolled back: " + original);
}

// Runs the steps from `from` to the end. `resumed`: another process did the
// steps before; a reload meanwhile would have gone unseen, so what they left
// on the LBs is ensured again first.
asio::awaitable<CutoverOutcome> drive(CutoverRun& run, Step from, bool resumed = false) {
  const Flow flow = flow_for(run.config());
  const auto& steps = flow.steps;
  auto start = std::find(steps.begin(), steps.end(), from);
  if (start == steps.end()) start = steps.begin();
  for (auto it = start; it != steps.end(); ++it) {
    const Step step = *it;
    if (run.lost_lock()) co_return lost_lock(run);
    if (flow.rolls_back(step) && run.stop_requested() && run.abort_seen()) {
      co_return co_await do_rollback(run, "aborted by `lbctl abort`");
    }
    if (auto entered = run.enter(step); !entered) co_return journal_failed(run, entered.error());
    if (step != Step::preflight) run.be_patient();
    // Arguments are named before co_await: GCC 12 frees some temporaries
    // there twice (see CONVENTIONS).
    const HookAt before = hook_before(run.config(), step);
    const HookAt after = hook_after(run.config(), step);
    auto result = co_await run_hook(run, before.command, before.name, step);
    if (result) result = co_await run_through_reloads(run, step, resumed && it == start);
    if (result) result = co_await run_hook(run, after.command, after.name, step);
    if (run.lost_lock()) co_return lost_lock(run);
    if (!result) {
      const Error& error = result.error();
      const std::string message = fmt::format("{}: {}", to_string(step), error.message);
      run.emit(step, "step_failed", message, {{"kind", std::string(to_string(error.kind))}});
      if (flow.before_changes(step)) {
        // Nothing on the load balancers changed (pre-migrations, additive, stay).
        finish(run, db::CutoverStatus::rolled_back, message);
        run.emit(step, "failed", "stopped before any change to the load balancers: " + message);
        int code = k_exit_failed;
        if (step == Step::preflight) {
          if (error.kind == ErrorKind::unreachable || error.kind == ErrorKind::timeout) code = k_exit_unreachable;
          else if (error.kind == ErrorKind::invalid || error.kind == ErrorKind::conflict) code = k_exit_usage;
        }
        co_return outcome(run, code, message);
      }
      if (flow.rolls_back(step)) {
        std::string reason = message;
        if (error.kind == ErrorKind::cancelled && run.abort_seen()) reason = "aborted by `lbctl abort`";
        co_return co_await do_rollback(run, reason);
      }
      const std::string stop = fmt::format("{}; {}: run `lbctl resume` to retry from {}{}", message,
                                           operator_situation(run.config(), flow, step), to_string(step),
                                           flow.past_no_return(step) ? "" : ", or `lbctl abort` to roll back");
      finish(run, db::CutoverStatus::needs_operator, stop);
      run.emit(step, "failed", "stopped for an operator: " + stop);
      co_return outcome(run, k_exit_operator, stop);
    }
    run.emit(step, "step_done", fmt::format("{} done", to_string(step)));
    if (!flow.before_changes(step)) co_await record_lbs(run, step);
  }
  // A reload during the last steps: put the end state back before saying so.
  if (auto last = co_await run_through_reloads_at_end(run); !last) {
    const std::string stop = "after terminate: " + last.error().message + "; run `lbctl reconcile` to repair the LBs";
    finish(run, db::CutoverStatus::needs_operator, stop);
    run.emit(Step::terminate, "failed", "stopped for an operator: " + stop);
    co_return outcome(run, k_exit_operator, stop);
  }
  finish(run, db::CutoverStatus::completed, "");
  run.emit(Step::terminate, "completed",
           fmt::format("cutover {} completed: {} replaced by {}", run.id(), fmt::join(run.old_names(), ", "),
                       fmt::join(run.new_names(), ", ")));
  co_return outcome(run, k_exit_done, "completed");
}

// Outcome when the journal itself refuses (locked, unreachable, nothing to resume).
CutoverOutcome journal_refusal(const Error& error) {
  int code = k_exit_failed;
  if (error.kind == ErrorKind::conflict) code = k_exit_locked;
  else if (error.kind == ErrorKind::unreachable || error.kind == ErrorKind::timeout) code = k_exit_unreachable;
  else if (error.kind == ErrorKind::invalid) code = k_exit_usage;
  return CutoverOutcome{code, 0, error.message};
}

}  // namespace

std::string_view to_string(Step step) {
  for (const auto& [s, name] : k_steps) {
    if (s == step) return name;
  }
  return "?";
}

std::optional<Step> parse_step(std::string_view text) {
  for (const auto& [s, name] : k_steps) {
    if (text == name) return s;
  }
  return std::nullopt;
}

asio::awaitable<CutoverOutcome> run_cutover(CutoverDeps deps, CutoverOptions options) {
  db::NewCutover request;
  request.service = deps.config.service;
  request.host = deps.host;
  request.pid = deps.pid;
  request.mode = deps.config.mode == CutoverMode::maintenance ? "maintenance" : "blue_green";
  request.config_json = config_snapshot(deps.config).dump();
  request.step = "preflight";
  auto row = deps.journal.begin(request);
  if (!row) co_return journal_refusal(row.error());
  CutoverRun run(deps, options, std::move(*row));
  run.emit(Step::preflight, "started",
           fmt::format("cutover {} of service {} started on {} (pid {})", run.id(), deps.config.service, deps.host,
                       deps.pid));
  for (const auto& warning : config_warnings(deps.config)) run.emit(Step::preflight, "warning", warning);
  auto result = co_await drive(run, Step::preflight);
  deps.journal.release();
  co_return result;
}

namespace {

asio::awaitable<CutoverOutcome> take_over(CutoverDeps deps, bool roll_back_it) {
  auto row = deps.journal.adopt(deps.config.service, deps.host, deps.pid);
  if (!row) co_return journal_refusal(row.error());
  CutoverRun run(deps, CutoverOptions{}, std::move(*row));
  run.load_progress();
  if (run.row.config_json != config_snapshot(deps.config).dump()) {
    run.emit(Step::preflight, "warning",
             "the config differs from the one this cutover started with; continuing with the current file");
  }
  const auto step = parse_step(run.row.step).value_or(Step::preflight);
  // Look at the load balancers before touching anything.
  auto view = co_await run.fleet_stats(step);
  if (!view) {
    deps.journal.release();
    co_return CutoverOutcome{k_exit_unreachable, run.id(), view.error().message};
  }
  run.row.status = db::CutoverStatus::running;
  run.emit(step, roll_back_it ? "abort" : "resume",
           fmt::format("{} cutover {} at step {}", roll_back_it ? "rolling back" : "resuming", run.id(), run.row.step));
  CutoverOutcome result;
  if (step == Step::rollback) {
    std::string reason = run.row.error;
    if (reason.empty()) reason = "resumed rollback";
    result = co_await do_rollback(run, reason);
  } else if (roll_back_it) {
    const Flow flow = flow_for(deps.config);
    if (flow.past_no_return(step) || (step == flow.migrations_step && migrations_committed(run))) {
      deps.journal.release();
      co_return CutoverOutcome{k_exit_operator, run.id(),
                               fmt::format("cutover {} is past the point of no return (step {}): its migrations "
                                           "committed; run `lbctl resume` to finish it",
                                           run.id(), run.row.step)};
    }
    if (flow.before_changes(step)) {
      finish(run, db::CutoverStatus::rolled_back, "aborted before any change");
      run.emit(step, "rolled_back", "aborted before any change to the load balancers");
      result = CutoverOutcome{k_exit_failed, run.id(), "aborted before any change"};
    } else {
      result = co_await do_rollback(run, "aborted by `lbctl abort`");
    }
  } else {
    result = co_await drive(run, step, true);
  }
  deps.journal.release();
  co_return result;
}

}  // namespace

asio::awaitable<CutoverOutcome> resume_cutover(CutoverDeps deps) { return take_over(std::move(deps), false); }

asio::awaitable<CutoverOutcome> rollback_cutover(CutoverDeps deps) { return take_over(std::move(deps), true); }

}  // namespace lbctl
