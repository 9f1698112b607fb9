// `lbctl abort -c FILE [--timeout DURATION]` (also `lbctl rollback`): roll
// back the service's cutover. A running one sees the request within one poll
// and rolls back itself, and this follows it; one whose process is gone is
// rolled back here.

#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/request_command.hpp"

namespace lbctl::cli {

void add_abort_command(CLI::App& app, Action& action) {
  auto* command = add_request_command(
      app, action,
      {"abort", "Roll back the service's running or interrupted cutover (also: rollback)",
       "Wait at most this long (30s, 5m) for a running cutover to roll back",
       "A running cutover rolls back at its next poll and this waits for it; one whose process died is\n"
       "rolled back here. Refused past the point of no return (post-migrations committed).\n"
       "Exit codes: 0 rolled back; 1 it completed first; 2 nothing to abort (or a usage error); 3 needs an\n"
       "operator; 4 still rolling back after --timeout, or locked by a process that did not answer;\n"
       "5 unreachable.",
       [](CutoverDeps deps, FollowOptions options) { return abort_cutover(std::move(deps), std::move(options)); }});
  command->alias("rollback");
}

}  // namespace lbctl::cli
