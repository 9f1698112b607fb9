#pragma once
// The exit codes automation reads (DESIGN.md, "Interfaces users see").

namespace lbctl {

enum ExitCode : int {
  k_exit_done = 0,         // done
  k_exit_failed = 1,       // failed, and rolled back cleanly (or: checks failed)
  k_exit_usage = 2,        // usage or config error; nothing changed
  k_exit_operator = 3,     // stopped; needs an operator (resume or rollback)
  k_exit_locked = 4,       // another cutover holds the service lock
  k_exit_unreachable = 5,  // a dependency was unreachable before anything changed
};

}  // namespace lbctl
