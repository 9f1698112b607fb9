#pragma once
// The cutover's steps, each an "ensure" over the run's state: it reads what
// is there and does only what is missing, so a resumed run can repeat it. A
// step fails with an Error; its row in the step table decides what follows
// (stop, roll back, or stop for an operator).

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <unordered_map>

#include "lbctl/cutover/cutover_run.hpp"

namespace lbctl {

// step_preflight.cpp
boost::asio::awaitable<Result<void>> step_preflight(CutoverRun& run);
// step_migrate.cpp
boost::asio::awaitable<Result<void>> step_backup(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_pre_migrate(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_post_migrate(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_migrate(CutoverRun& run);  // mode: maintenance, both phases at once
// step_scaling.cpp
boost::asio::awaitable<Result<void>> step_freeze(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_unfreeze(CutoverRun& run);
// step_clone.cpp
boost::asio::awaitable<Result<void>> step_clone(CutoverRun& run);
// step_verify.cpp
boost::asio::awaitable<Result<void>> step_verify(CutoverRun& run);
// step_attach.cpp
boost::asio::awaitable<Result<void>> step_attach(CutoverRun& run);
// step_stages.cpp
boost::asio::awaitable<Result<void>> step_stages(CutoverRun& run);
// The weights of stage `stage` on every LB (the old pool's too while it is there).
boost::asio::awaitable<Result<void>> apply_stage_weights(CutoverRun& run, std::size_t stage, bool old_pool_there,
                                                         Step step);
// step_promotion.cpp: the pause before the drain (promotion.mode manual),
// and the undo window after detach (promotion.undo_window).
boost::asio::awaitable<Result<void>> step_promote(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_undo_window(CutoverRun& run);
// step_drain.cpp
boost::asio::awaitable<Result<void>> step_drain(CutoverRun& run);
// step_watch.cpp
boost::asio::awaitable<Result<void>> step_watch(CutoverRun& run);
// step_detach.cpp
boost::asio::awaitable<Result<void>> step_detach(CutoverRun& run);
// step_terminate.cpp
boost::asio::awaitable<Result<void>> step_terminate(CutoverRun& run);
// step_maintenance.cpp
boost::asio::awaitable<Result<void>> step_maintenance_on(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_maintenance_off(CutoverRun& run);

// rollback.cpp: the old pool back in rotation, then the new pool out and
// terminated, and scaling unfrozen; min_healthy holds throughout.
boost::asio::awaitable<Result<void>> roll_back(CutoverRun& run);

// per_server.cpp: `action` on every server at once. `done` names those it
// succeeded for; `failed` ("<what> NAME: why; ...") every one it did not, so a
// failure for one server never hides the others' or stops them.
struct PerServer {
  std::vector<std::string> done;
  std::string failed;  // "" when none failed
  ErrorKind kind = ErrorKind::refused;  // the first failure's

  bool ok() const { return failed.empty(); }
  Result<void> result() const { return ok() ? Result<void>{} : fail(kind, failed); }
};
using ServerAction = std::function<boost::asio::awaitable<Result<void>>(const pools::Server&)>;
boost::asio::awaitable<PerServer> on_each_server(std::vector<pools::Server> servers, std::string what,
                                                          ServerAction action);

// rollback.cpp: the health files of the old servers lbctl removed them from
// (progress.health_files_removed), restored; each restored one is taken off
// the list (the caller saves), a failure for one goes on with the others.
boost::asio::awaitable<PerServer> restore_health_files(CutoverRun& run);

// step_attach.cpp: the new pool on every LB in the safe order: added in
// MAINT with checks running, HAProxy's check passed, then ready, then UP
// everywhere. An ensure: what already holds is left alone.
boost::asio::awaitable<Result<void>> attach_new_pool(CutoverRun& run, Step step);
// Adds `servers` on every LB and starts their checks (they stay in MAINT).
boost::asio::awaitable<Result<void>> prepare_on_fleet(CutoverRun& run, std::vector<pools::NewServer> servers, Step step);

// reloads.cpp: what the steps before `step` left on the LBs, ensured again
// after a reload or a restart (without persistence one loses every runtime
// change; with it, admin DRAIN states): each done step's `reensure` from the
// step table, in the flow's order.
boost::asio::awaitable<Result<void>> reensure_after_reload(CutoverRun& run, Step step);
// The steps' parts of it (ReensureFunction, step_table.hpp): the maintenance
// page (until maintenance_off), the new pool attached with the stages'
// weights, the old pool in DRAIN (drain.method haproxy, until detach), the
// old pool deleted.
boost::asio::awaitable<Result<void>> reensure_maintenance_page(CutoverRun& run, Step step,
                                                               const std::function<bool(Step)>& done);
boost::asio::awaitable<Result<void>> reensure_new_pool(CutoverRun& run, Step step,
                                                       const std::function<bool(Step)>& done);
boost::asio::awaitable<Result<void>> reensure_drained(CutoverRun& run, Step step, const std::function<bool(Step)>& done);
boost::asio::awaitable<Result<void>> reensure_detached(CutoverRun& run, Step step,
                                                       const std::function<bool(Step)>& done);

// step_watch.cpp: per LB, the sessions each named server still has in
// workers a reload left behind (an LB without master_api: none seen).
using SessionMap = std::unordered_map<std::string, std::uint64_t>;
boost::asio::awaitable<Result<std::vector<SessionMap>>> sessions_in_old_workers(CutoverRun& run,
                                                                                std::vector<std::string> names);

}  // namespace lbctl
