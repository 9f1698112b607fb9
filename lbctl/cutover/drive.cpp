// The controller's loop, argo-rollouts' style: a flat, ordered list of steps
// (the step table), each journaled before it starts; on failure the step's
// row decides: stop (nothing changed), roll back, or stop for an operator.

#include "lbctl/cutover/drive.hpp"

#include <fmt/format.h>

#include "lbctl/cutover/fleet_look.hpp"
#include "lbctl/cutover/hooks.hpp"
#include "lbctl/cutover/journal_calls.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

CutoverOutcome outcome(const CutoverRun& run, Outcome kind, std::string message) {
  return CutoverOutcome{kind, run.id(), std::move(message)};
}

CutoverOutcome lost_lock(const CutoverRun& run) {
  const std::string& reason = run.session().lost_lock_reason();
  const std::string why = reason.empty() ? "the state database connection broke" : reason;
  return outcome(run, Outcome::needs_operator,
                 "lost the service lock (" + why +
                     "): stopped, the load balancers as this lbctl left them; run `lbctl resume` to finish");
}

CutoverOutcome journal_failed(const CutoverRun& run, const Error& error) {
  if (run.lost_lock() || error.kind == ErrorKind::conflict) return lost_lock(run);
  return outcome(run, Outcome::needs_operator,
                 "could not journal the next step (" + error.message + "): stopped; run `lbctl resume` to finish");
}

asio::awaitable<void> finish(CutoverRun& run, db::CutoverStatus status, const std::string& error) {
  if (auto saved = co_await run.finish(status, error); !saved) {
    run.emit(run.current_step(), EventKind::warning, "could not journal the outcome: " + saved.error().message);
  }
}

namespace {

// What every LB holds, saved on the journal's lane (awaited, never blocking the loop).
asio::awaitable<Result<void>> save_fleet_records(CutoverRun* run) {
  auto records = co_await fleet_records(run->fleet(), run->id());
  if (!records) co_return std::unexpected(records.error());
  co_return co_await JournalCalls(run->deps()).save_lb_records(run->config().service, std::move(*records));
}

}  // namespace

asio::awaitable<void> record_lbs(CutoverRun& run, Step step) {
  if (run.lost_lock()) co_return;
  std::function<asio::awaitable<Result<void>>()> save = [run = &run]() { return save_fleet_records(run); };
  auto recorded = co_await run.session().through_outage(std::move(save));
  if (!recorded && !run.lost_lock()) run.emit(step, EventKind::warning, "could not record what the load balancers hold: " + recorded.error().message);
}

asio::awaitable<Result<void>> retry_through_reloads(CutoverRun& run, std::function<asio::awaitable<Result<void>>()> attempt,
                                                    std::function<void(const std::vector<std::string>&)> reloaded) {
  for (int reloads = 0;; ++reloads) {
    run.reloads().mark();
    auto result = co_await attempt();
    if (result || reloads >= k_max_reloads_per_step) co_return result;
    // A read during the attempt saw the reload; else one look now, in case
    // the failure came from a reload nothing read.
    std::vector<std::string> names = run.reloads().since_mark();
    if (!run.reloads().interrupted()) {
      auto looked = co_await run.reloads().look();
      if (!looked || looked->empty()) co_return result;
      names = std::move(*looked);
    }
    reloaded(names);
  }
}

namespace {

// "lb1, lb2 reloaded or restarted during drain: ensuring again what lbctl had left there"
void emit_reloaded(CutoverRun& run, Step step, const std::vector<std::string>& names, bool at_end) {
  const std::string text =
      at_end ? fmt::format("{} reloaded or restarted: ensuring again what the cutover left there", fmt::join(names, ", "))
             : fmt::format("{} reloaded or restarted during {}: ensuring again what lbctl had left there",
                           fmt::join(names, ", "), to_string(step));
  run.emit(step, EventKind::reloaded, text, {{"load_balancers", names}});
}

// Runs the step's function. An LB reloaded (or restarted) before or during
// it gets back what the steps before had left there, and the step, an
// ensure, runs again. `reensure`: ensure that first anyway (a resumed run).
asio::awaitable<Result<void>> run_through_reloads(CutoverRun& run, Step step, bool reensure) {
  if (!first_contact(step)) {
    // Since the mark the step before set.
    auto reloaded = co_await run.reloads().look();
    if (!reloaded) co_return std::unexpected(reloaded.error());
    if (!reloaded->empty()) {
      emit_reloaded(run, step, *reloaded, false);
      reensure = true;
    }
  }
  std::function<asio::awaitable<Result<void>>()> attempt = [&run, step, &reensure]() -> asio::awaitable<Result<void>> {
    if (reensure) {
      if (auto again = co_await reensure_after_reload(run, step); !again) co_return again;
      reensure = false;
    }
    co_return co_await function_of(step)(run);
  };
  std::function<void(const std::vector<std::string>&)> reloaded = [&run, step,
                                                                  &reensure](const std::vector<std::string>& names) {
    emit_reloaded(run, step, names, false);
    reensure = true;
  };
  co_return co_await retry_through_reloads(run, std::move(attempt), std::move(reloaded));
}

// Once every step is done: one more look, in case an LB reloaded during the
// last steps (after their own reads); what was lost is put back, and looked
// for again.
asio::awaitable<Result<void>> reensure_at_end(CutoverRun& run, Step last) {
  auto reloaded = co_await run.reloads().look();
  if (!reloaded) co_return std::unexpected(reloaded.error());
  if (reloaded->empty()) co_return Result<void>{};
  emit_reloaded(run, last, *reloaded, true);
  std::function<asio::awaitable<Result<void>>()> attempt = [&run, last]() -> asio::awaitable<Result<void>> {
    if (auto again = co_await reensure_after_reload(run, last); !again) co_return again;
    co_return co_await run.reloads().look_and_notice();
  };
  std::function<void(const std::vector<std::string>&)> again = [&run, last](const std::vector<std::string>& names) {
    emit_reloaded(run, last, names, true);
  };
  co_return co_await retry_through_reloads(run, std::move(attempt), std::move(again));
}

// What the fleet looks like when a step past the rollback range fails.
std::string operator_situation(const Config& config, const Flow& flow, Step step) {
  if (config.mode == CutoverMode::maintenance && !flow.past_no_return(step)) return "the migrations did not commit";
  if (config.mode == CutoverMode::maintenance && flow.index_of(step) < flow.index_of(Step::maintenance_off)) {
    return "the migrations committed, so the old servers cannot take traffic again; maintenance stays on";
  }
  return "the old servers are detached, not terminated";
}

// A failed step, as its row in the step table says.
asio::awaitable<CutoverOutcome> step_failed(CutoverRun& run, const Flow& flow, Step step, Error error) {
  const std::string message = fmt::format("{}: {}", to_string(step), error.message);
  run.emit(step, EventKind::step_failed, message, {{"kind", std::string(to_string(error.kind))}});
  switch (flow.find(step)->on_failure) {
    case OnFailure::stop: {
      co_await finish(run, db::CutoverStatus::stopped, message);
      run.emit(step, EventKind::failed, "stopped before any change to the load balancers: " + message);
      // At first contact the error's kind is the exit code (5 unreachable);
      // a config the fleet cannot take is a usage error, not a lock.
      Outcome kind = first_contact(step) ? outcome_for(error.kind) : Outcome::failed;
      if (kind == Outcome::locked) kind = Outcome::usage;
      co_return outcome(run, kind, message);
    }
    case OnFailure::roll_back: {
      // Named first: GCC 12 frees a ?: temporary inside co_await twice.
      std::string reason = error.kind == ErrorKind::cancelled && run.abort_seen() ? "aborted by `lbctl abort`" : message;
      // Only the undo window's step sets undone_by, and fails at once.
      if (error.kind == ErrorKind::cancelled && !run.progress().undone_by.empty()) {
        reason = "undone after promotion by " + run.progress().undone_by;
      }
      co_return co_await roll_back_run(run, std::move(reason));
    }
    case OnFailure::stop_for_operator: break;
  }
  const std::string stop = fmt::format("{}; {}: run `lbctl resume` to retry from {}{}", message,
                                       operator_situation(run.config(), flow, step), to_string(step),
                                       flow.past_no_return(step) ? "" : ", or `lbctl abort` to roll back");
  co_await finish(run, db::CutoverStatus::needs_operator, stop);
  run.emit(step, EventKind::failed, "stopped for an operator: " + stop);
  co_return outcome(run, Outcome::needs_operator, stop);
}

// One step: its hooks, and its function through any reloads.
asio::awaitable<Result<void>> run_step(CutoverRun& run, const FlowStep& row, bool reensure) {
  const auto executor = co_await asio::this_coro::executor;
  const auto polling = keeps_polling(row.step) ? run.session().keep_polling(executor) : nullptr;
  if (auto before = co_await run_hook_at(run, row.before, row.step); !before) co_return before;
  if (auto done = co_await run_through_reloads(run, row.step, reensure); !done) co_return done;
  co_return co_await run_hook_at(run, row.after, row.step);
}

asio::awaitable<CutoverOutcome> completed(CutoverRun& run, const Flow& flow) {
  // A reload during the last steps: the end state put back before saying so.
  if (auto last = co_await reensure_at_end(run, flow.last()); !last) {
    const std::string stop = "after terminate: " + last.error().message + "; run `lbctl reconcile` to repair the LBs";
    co_await finish(run, db::CutoverStatus::needs_operator, stop);
    run.emit(flow.last(), EventKind::failed, "stopped for an operator: " + stop);
    co_return outcome(run, Outcome::needs_operator, stop);
  }
  co_await finish(run, db::CutoverStatus::completed, "");
  run.emit(flow.last(), EventKind::completed,
           fmt::format("cutover {} completed: {} replaced by {}", run.id(), fmt::join(run.old_names(), ", "),
                       fmt::join(run.new_names(), ", ")));
  co_return outcome(run, Outcome::done, "completed");
}

}  // namespace

asio::awaitable<CutoverOutcome> drive(CutoverRun& run, Step from, bool resumed) {
  const Flow flow = flow_for(run.config());
  std::size_t start = flow.index_of(from);
  if (start == flow.steps.size()) start = 0;
  for (std::size_t i = start; i < flow.steps.size(); ++i) {
    const FlowStep& row = flow.steps[i];
    if (run.lost_lock()) co_return lost_lock(run);
    run.poll_journal();
    if (flow.rolls_back(row.step) && run.abort_seen()) co_return co_await roll_back_run(run, "aborted by `lbctl abort`");
    if (auto entered = co_await run.enter(row.step, watches_new_pool(row.step)); !entered) {
      co_return journal_failed(run, entered.error());
    }
    if (!first_contact(row.step)) run.be_patient();
    auto result = co_await run_step(run, row, resumed && i == start);
    if (run.lost_lock()) co_return lost_lock(run);
    if (!result) co_return co_await step_failed(run, flow, row.step, result.error());
    run.emit(row.step, EventKind::step_done, fmt::format("{} done", to_string(row.step)));
    if (!flow.before_changes(row.step)) co_await record_lbs(run, row.step);
  }
  co_return co_await completed(run, flow);
}

}  // namespace lbctl
