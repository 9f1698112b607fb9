#pragma once
// The user's hooks: argv lists run without a shell at fixed points of a
// cutover, given its facts as environment variables. Their output goes to
// the journal; a non-zero exit fails the step.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "lbctl/cutover/cutover_run.hpp"
#include "lbctl/cutover/step_table.hpp"

namespace lbctl {

// Runs `hook` when configured (a no-op otherwise), with LBCTL_SERVICE,
// LBCTL_CUTOVER_ID, LBCTL_STEP, LBCTL_HOOK, LBCTL_OLD_SERVERS and
// LBCTL_NEW_SERVERS (comma separated name=address). Fails naming the hook,
// its exit code and the tail of its stderr.
boost::asio::awaitable<Result<void>> run_hook(CutoverRun& run, std::optional<HookCommand> hook, std::string name,
                                              Step step);
// The hook the step table places at `point` around `step`, when configured.
boost::asio::awaitable<Result<void>> run_hook_at(CutoverRun& run, HookPoint point, Step step);

}  // namespace lbctl
