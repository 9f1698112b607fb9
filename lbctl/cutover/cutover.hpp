#pragma once
// The cutover: every step an idempotent "ensure", journaled before and after,
// so that a SIGKILL at any instant can be resumed (`resume`) or rolled back
// (`abort`). The controller sees only interfaces: the LB fleet (over
// RuntimeApi), the provider, the HTTP prober, the journal, the migrator,
// process spawning for hooks, and a clock.

#include <boost/asio/awaitable.hpp>

#include "lbctl/cutover/step.hpp"

namespace lbctl {

// A new cutover from step 0.
boost::asio::awaitable<CutoverOutcome> run_cutover(CutoverDeps deps, CutoverOptions options);
// Finishes the service's interrupted (or needs_operator) cutover from its
// journaled step, looking at the LBs first.
boost::asio::awaitable<CutoverOutcome> resume_cutover(CutoverDeps deps);
// Rolls back the service's interrupted (or needs_operator) cutover whose
// process is gone.
boost::asio::awaitable<CutoverOutcome> rollback_cutover(CutoverDeps deps);

}  // namespace lbctl
