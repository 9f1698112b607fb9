#pragma once
// The cutover's steps, each an "ensure" over the run's state: it reads what
// is there and does only what is missing, so a resumed run can repeat it.
// A step fails with an Error; the controller decides what follows
// (stop, roll back, or stop for an operator).

#include <boost/asio/awaitable.hpp>

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

// Adds `servers` on every LB and starts their checks (they stay in MAINT).
boost::asio::awaitable<Result<void>> prepare_on_fleet(CutoverRun& run, std::vector<pools::NewServer> servers, Step step);

}  // namespace lbctl
