#pragma once
// The cutover's steps, each an "ensure" over the run's state: it reads what
// is there and does only what is missing, so a resumed run can repeat it.
// A step fails with an Error; the controller decides what follows
// (stop, roll back, or stop for an operator).

#include <boost/asio/awaitable.hpp>
#include <unordered_map>

#include "lbctl/cutover_run.hpp"

namespace lbctl {

boost::asio::awaitable<Result<void>> step_preflight(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_backup(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_pre_migrate(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_freeze(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_clone(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_verify(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_attach(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_stages(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_drain(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_watch(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_detach(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_post_migrate(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_unfreeze(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_terminate(CutoverRun& run);
// mode: maintenance
boost::asio::awaitable<Result<void>> step_maintenance_on(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_migrate(CutoverRun& run);
boost::asio::awaitable<Result<void>> step_maintenance_off(CutoverRun& run);

// Puts the old pool back in rotation, then takes the new pool out and
// terminates it, and unfreezes scaling; min_healthy holds throughout.
boost::asio::awaitable<Result<void>> roll_back(CutoverRun& run);

// The new pool on every LB, in the safe order: added in MAINT with checks
// running, HAProxy's check passed, then ready, then UP everywhere. An ensure:
// what already holds is left alone.
boost::asio::awaitable<Result<void>> attach_new_pool(CutoverRun& run, Step step);

// What the steps before `step` left on the LBs, ensured again after a reload
// or a restart (without persistence one loses every runtime change; with it,
// admin DRAIN states).
boost::asio::awaitable<Result<void>> reensure_after_reload(CutoverRun& run, Step step);

// Per LB, the sessions each named server still has in workers a reload left
// behind (an LB without master_api: none seen).
using SessionMap = std::unordered_map<std::string, std::uint64_t>;
boost::asio::awaitable<Result<std::vector<SessionMap>>> sessions_in_old_workers(CutoverRun& run,
                                                                                std::vector<std::string> names);

// Adds `servers` on every LB and starts their checks (they stay in MAINT).
boost::asio::awaitable<Result<void>> prepare_on_fleet(CutoverRun& run, std::vector<pools::NewServer> servers, Step step);

}  // namespace lbctl
