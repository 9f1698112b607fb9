// `lbctl promote -c FILE` and `lbctl undo -c FILE`: the promotion gate and
// the undo window (promotion: in the config). Both go through the journal, so
// they work from any machine; the cutover's own process acts at its next
// poll and these follow it.

#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/request_command.hpp"
#include "lbctl/cli/who.hpp"
#include "lbctl/cutover/promotion_requests.hpp"

namespace lbctl::cli {

namespace {

// A request recorded as asked by the user running this (user@host).
using AskedBy = boost::asio::awaitable<CutoverOutcome> (*)(CutoverDeps, FollowOptions, std::string);
RequestFunction asked_by_this_user(AskedBy request) {
  return [request](CutoverDeps deps, FollowOptions options) {
    return request(std::move(deps), std::move(options), who_runs_this());
  };
}

}  // namespace

void add_promote_command(CLI::App& app, Action& action) {
  add_request_command(
      app, action,
      {"promote", "End the promotion pause of the service's cutover (promotion.mode manual): drain the old servers",
       "Wait at most this long (default 30s) for the cutover to act on it",
       "Recorded in the journal with who asked (user@host); the paused cutover goes on at its next poll.\n"
       "Asked before the pause, the cutover goes on without pausing; asked of a cutover whose process is\n"
       "gone, `lbctl resume` carries it on, promoted.\n"
       "Exit codes: 0 promoted (or recorded); 1 the cutover ended first; 2 nothing to promote (none\n"
       "running, promotion.mode auto, or rolling back); 4 not acted on within --timeout; 5 unreachable.",
       asked_by_this_user(promote_cutover)});
}

void add_undo_command(CLI::App& app, Action& action) {
  add_request_command(
      app, action,
      {"undo", "Put the old servers back during the undo window after promotion (promotion.undo_window)",
       "Wait at most this long for a running cutover to undo",
       "The old servers come back on every LB with their old ids, are waited for until UP everywhere,\n"
       "then the new ones are drained, detached and terminated: the cutover ends rolled back (\"undone\n"
       "after promotion\", its own exit 1). One whose process died is undone here.\n"
       "Exit codes: 0 the old pool is back; 2 nothing to undo: no undo window, not promoted and detached\n"
       "yet (`lbctl abort` rolls back), or the window closed (post_migrate is the point of no return);\n"
       "3 needs an operator; 4 still undoing after --timeout; 5 unreachable.",
       asked_by_this_user(undo_cutover)});
}

}  // namespace lbctl::cli
