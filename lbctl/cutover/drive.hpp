#pragma once
// Running a cutover's flow (drive.cpp) and its rollback (roll_back_run, in
// cutover.cpp; the rollback's own work is rollback.cpp): internal to the
// controller; run_cutover and friends (cutover.hpp) are the way in.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "lbctl/cutover/cutover_run.hpp"

namespace lbctl {

// Runs the config's flow from `from` to its end: each step journaled, its
// hooks run around it, reloads met on the way repaired; a failure handled as
// the step table says. `resumed`: another process did the steps before, and a
// reload meanwhile would have gone unseen, so what they left on the LBs is
// ensured again first.
boost::asio::awaitable<CutoverOutcome> drive(CutoverRun& run, Step from, bool resumed);

// Rolls back (journaled as step rollback) for `reason`, kept across a resumed
// rollback; ends rolled back, or stopped for an operator when it cannot.
boost::asio::awaitable<CutoverOutcome> roll_back_run(CutoverRun& run, std::string reason);

// What the run's end (or refusal) means.
CutoverOutcome outcome(const CutoverRun& run, Outcome kind, std::string message);
CutoverOutcome lost_lock(const CutoverRun& run);
// The journal refused a write: without it a crash could not be resumed.
CutoverOutcome journal_failed(const CutoverRun& run, const Error& error);
// Saves the final status; the run ends either way (a failed save is reported).
boost::asio::awaitable<void> finish(CutoverRun& run, db::CutoverStatus status, const std::string& error);
// What every LB holds now, recorded as what lbctl left there.
boost::asio::awaitable<void> record_lbs(CutoverRun& run, Step step);
// The one retry-after-reload loop: runs `attempt` (after marking each LB's
// process) until it succeeds, or fails for a reason other than a reload, or
// has run k_max_reloads_per_step times more. A failed attempt during which
// an LB was reloaded or restarted (a read saw it, or one look after the
// failure does) is told to `reloaded` with the LBs' names, and runs again.
boost::asio::awaitable<Result<void>> retry_through_reloads(
    CutoverRun& run, std::function<boost::asio::awaitable<Result<void>>()> attempt,
    std::function<void(const std::vector<std::string>&)> reloaded);

// A reload can strike any number of times; past this many in one step,
// something keeps reloading the LB and a person should look.
inline constexpr int k_max_reloads_per_step = 20;

}  // namespace lbctl
