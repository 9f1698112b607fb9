#pragma once
// `lbctl abort`, the protocol: a running cutover is asked, through the
// journal, to roll back (it sees the request within one poll and does it
// itself, and this follows its events until it ends); one whose process is
// gone is rolled back here. Works from any machine.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>

#include "lbctl/cutover/step.hpp"

namespace lbctl {

// How `lbctl abort`, `promote` and `undo` follow the cutover's holder
// through the journal while it acts on their request.
struct FollowOptions {
  // How long to wait for a live holder to roll back; nullopt: until it ends.
  std::optional<std::chrono::milliseconds> timeout;
  // How often the journal is read meanwhile.
  std::chrono::milliseconds poll{500};
  // Each of the holder's events, as it journals them.
  std::function<void(const db::Event&)> on_event;
};

// done: rolled back (by its holder or here); failed: it completed first;
// usage: nothing to abort; needs_operator: the rollback needs a person (or
// the cutover is past the point of no return); locked: the holder is still
// rolling back after the timeout; unreachable: the state database or an LB.
boost::asio::awaitable<CutoverOutcome> abort_cutover(CutoverDeps deps, FollowOptions options);

// The one follow-the-holder loop: every options.poll, the holder's events
// journaled since `seen` go to options.on_event, then its row (as read) to
// `read`, which says when following ends: with an outcome, or with none (its
// process went away: the caller carries the cutover on itself). Past
// `timeout` (nullopt: never), ends with `late()`.
struct HolderEnd {
  std::optional<CutoverOutcome> outcome;
};
boost::asio::awaitable<std::optional<CutoverOutcome>> follow_holder(
    CutoverDeps& deps, const db::Cutover& holder, std::int64_t seen, std::optional<std::chrono::milliseconds> timeout,
    const FollowOptions& options, std::function<std::optional<HolderEnd>(const Result<db::Cutover>&)> read,
    std::function<CutoverOutcome()> late);

// Follows a live holder's rollback until the cutover ends: how the row
// ended, as abort's outcome (done: rolled back). nullopt when its process
// went away meanwhile (the row reads interrupted). locked after
// options.timeout.
boost::asio::awaitable<std::optional<CutoverOutcome>> follow_rollback(CutoverDeps& deps, const db::Cutover& holder,
                                                                      const FollowOptions& options);

}  // namespace lbctl
