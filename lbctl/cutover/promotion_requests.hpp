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
boost::asio::awaitable<CutoverOutcome> promote_cutover(CutoverDeps deps, FollowOptions options, std::string by);

// done: the old pool is back (the cutover rolled back, "undone after
// promotion"); usage: nothing to undo: no undo window, not detached yet
// (`abort` does that), or the window closed (naming when: post_migrate is
// the point of no return); needs_operator: the undo's rollback stopped;
// locked, unreachable: as abort.
boost::asio::awaitable<CutoverOutcome> undo_cutover(CutoverDeps deps, FollowOptions options, std::string by);

enum class Request { promote, abort, undo };
std::string_view to_string(Request request);

// What `serve` does for a web action: the refusals `lbctl promote`, `abort`
// and `undo` give, then the request recorded in the journal with an event
// saying who asked (`by`: where it came from); never waits for the holder
// and never acts itself. done: recorded (or already done); usage: nothing
// to do now (the message says why); locked: an abort or undo of a cutover
// whose process is gone (a shell must run it); unreachable: the journal.
// `now_ms`: wall time, for the undo window.
CutoverOutcome record_request(db::Journal& journal, const std::string& service, Request what, const std::string& by,
                              std::int64_t now_ms);

}  // namespace lbctl
