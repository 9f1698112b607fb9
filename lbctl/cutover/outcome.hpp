#pragma once
// How a command's work ended, in the controller's words; the CLI maps each
// to the exit code automation reads (lbctl/cli/exit_codes.hpp).

#include <string_view>

#include "core/error.hpp"

namespace lbctl {

enum class Outcome {
  done,            // completed (or nothing to do)
  failed,          // failed, and rolled back cleanly (or stopped before any change)
  usage,           // a usage or config error; nothing changed
  needs_operator,  // stopped; an operator must resume or roll back
  locked,          // another cutover holds the service lock (or waits for resume/abort)
  unreachable,     // a dependency was unreachable before anything changed
};

std::string_view to_string(Outcome outcome);

// What an adapter's error met before any change means: a dependency that did
// not answer (unreachable, timeout), a lock (conflict), bad input (invalid),
// or a refusal (refused, cancelled: failed).
Outcome outcome_for(ErrorKind kind);

}  // namespace lbctl
