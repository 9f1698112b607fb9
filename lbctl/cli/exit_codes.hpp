#pragma once
// The exit codes automation reads, the one mapping to them, and the one text
// that explains them (--help and the README say it in these words: a test
// holds them to it).

#include <string>

#include "core/error.hpp"
#include "lbctl/cutover/outcome.hpp"

namespace lbctl {

enum ExitCode : int {
  k_exit_done = 0,         // done
  k_exit_failed = 1,       // failed, and rolled back cleanly (or: checks failed)
  k_exit_usage = 2,        // usage or config error; nothing changed
  k_exit_operator = 3,     // stopped; needs an operator (resume or rollback)
  k_exit_locked = 4,       // another cutover holds the service lock
  k_exit_unreachable = 5,  // a dependency was unreachable before anything changed
};

constexpr ExitCode exit_code_for(Outcome outcome) {
  switch (outcome) {
    case Outcome::done: return k_exit_done;
    case Outcome::failed: return k_exit_failed;
    case Outcome::usage: return k_exit_usage;
    case Outcome::needs_operator: return k_exit_operator;
    case Outcome::locked: return k_exit_locked;
    case Outcome::unreachable: return k_exit_unreachable;
  }
  return k_exit_failed;
}

// An adapter's error met before anything changed: unreachable or timeout 5,
// conflict 4, invalid 2, else 1.
inline ExitCode exit_code_for(const Error& error) { return exit_code_for(outcome_for(error.kind)); }

// "Exit codes: 0 done; 1 ...": what each exit code of a cutover (and of
// resume) means, in one line.
std::string cutover_exit_codes();
// The same, folded into lines of at most `width` characters (a --help footer).
std::string cutover_exit_codes_folded(std::size_t width = 100);

}  // namespace lbctl
