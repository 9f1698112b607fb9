#pragma once
// `lbctl promote` and `lbctl undo`, the protocol: the request goes through
// the journal (so it works from any machine), the cutover's own process acts
// on it at its next poll, and this follows it. An undo of a cutover whose
// process is gone is carried out here (a resume that finds the request).

#include <boost/asio/awaitable.hpp>
#include <string>

#include "lbctl/cutover/abort.hpp"

namespace lbctl {

// done: promoted (or already), or recorded for a cutover not yet paused or
// whose process is gone (`resume` carries it on, promoted); usage: nothing
// to promote (none running, promotion.mode auto, rolling back); locked: the
// holder did not act within options.timeout; unreachable: the journal.
boost::asio::awaitable<CutoverOutcome> promote_cutover(CutoverDeps deps, AbortOptions options, std::string by);

// done: the old pool is back (the cutover rolled back, "undone after
// promotion"); usage: nothing to undo: no undo window, not detached yet
// (`abort` does that), or the window closed (naming when: post_migrate is
// the point of no return); needs_operator: the undo's rollback stopped;
// locked, unreachable: as abort.
boost::asio::awaitable<CutoverOutcome> undo_cutover(CutoverDeps deps, AbortOptions options, std::string by);

}  // namespace lbctl
