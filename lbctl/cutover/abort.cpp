#include "lbctl/cutover/abort.hpp"

#include <fmt/format.h>

#include "core/duration.hpp"
#include "lbctl/cutover/cutover.hpp"
#include "lbctl/cutover/journal_calls.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

CutoverOutcome refused(const Error& error) { return CutoverOutcome{outcome_for(error.kind), 0, error.message}; }

// How a cutover's row reads once it ended, as abort's outcome.
CutoverOutcome after_rollback(const db::Cutover& row) {
  switch (row.status) {
    case db::CutoverStatus::rolled_back:
      return {Outcome::done, row.id, row.error.empty() ? std::string("rolled back") : "rolled back: " + row.error};
    case db::CutoverStatus::completed:
      return {Outcome::failed, row.id, fmt::format("cutover {} completed before it could roll back", row.id)};
    case db::CutoverStatus::stopped: return {Outcome::done, row.id, "stopped before any change: " + row.error};
    case db::CutoverStatus::needs_operator: return {Outcome::needs_operator, row.id, row.error};
    case db::CutoverStatus::running:
    case db::CutoverStatus::interrupted: break;
  }
  return {Outcome::needs_operator, row.id, fmt::format("cutover {} did not end", row.id)};
}

}  // namespace

asio::awaitable<std::optional<CutoverOutcome>> follow_holder(
    CutoverDeps& deps, const db::Cutover& holder, std::int64_t seen, std::optional<std::chrono::milliseconds> timeout,
    const FollowOptions& options, std::function<std::optional<HolderEnd>(const Result<db::Cutover>&)> read,
    std::function<CutoverOutcome()> late) {
  const auto deadline = timeout ? std::optional(deps.clock.now() + *timeout) : std::nullopt;
  const JournalCalls journal(deps);
  for (;;) {
    co_await deps.clock.sleep_for(options.poll);
    if (auto events = co_await journal.events(holder.id, seen, 100)) {
      for (const auto& e : *events) {
        seen = e.id;
        if (options.on_event) options.on_event(e);
      }
    }
    const auto row = co_await journal.get(holder.id);
    if (auto end = read(row)) co_return end->outcome;
    if (deadline && deps.clock.now() >= *deadline) co_return late();
  }
}

asio::awaitable<std::optional<CutoverOutcome>> follow_rollback(CutoverDeps& deps, const db::Cutover& holder,
                                                               const FollowOptions& options) {
  std::function<std::optional<HolderEnd>(const Result<db::Cutover>&)> read =
      [](const Result<db::Cutover>& row) -> std::optional<HolderEnd> {
    if (row && row->status == db::CutoverStatus::interrupted) return HolderEnd{};
    if (row && row->status != db::CutoverStatus::running) return HolderEnd{after_rollback(*row)};
    return std::nullopt;
  };
  std::function<CutoverOutcome()> late = [&holder, &options]() {
    return CutoverOutcome{Outcome::locked, holder.id,
                          fmt::format("{} has not finished rolling back after {}; it goes on (`lbctl status` follows it)",
                                      db::describe(holder), format_duration(*options.timeout))};
  };
  co_return co_await follow_holder(deps, holder, 0, options.timeout, options, std::move(read), std::move(late));
}

asio::awaitable<CutoverOutcome> abort_cutover(CutoverDeps deps, FollowOptions options) {
  const JournalCalls journal(deps);
  auto latest = co_await journal.latest(deps.config.service);
  if (!latest) co_return refused(latest.error());
  if (!*latest || db::is_finished((*latest)->status)) {
    co_return CutoverOutcome{
        Outcome::usage, 0,
        fmt::format("no cutover of service {} to abort{}", deps.config.service,
                    *latest ? fmt::format(" (the last one is {})", db::to_string((*latest)->status)) : std::string())};
  }
  const db::Cutover holder = **latest;
  if (holder.status == db::CutoverStatus::running) {
    if (auto asked = co_await journal.request_abort(deps.config.service); !asked) co_return refused(asked.error());
    if (auto followed = co_await follow_rollback(deps, holder, options)) co_return *followed;
  }
  // Its process is gone (or cut off: rollback_cutover waits out its lease):
  // roll back here.
  auto rolled = co_await rollback_cutover(deps);
  if (rolled.outcome == Outcome::locked) {
    // Its runner came back meanwhile (it took its lock again): ask it.
    auto again = co_await journal.latest(deps.config.service);
    if (again && *again && (*again)->id == holder.id && (*again)->status == db::CutoverStatus::running) {
      if (auto asked = co_await journal.request_abort(deps.config.service); !asked) co_return refused(asked.error());
      if (auto followed = co_await follow_rollback(deps, holder, options)) co_return *followed;
    }
    co_return rolled;
  }
  if (rolled.outcome == Outcome::unreachable) co_return rolled;
  auto row = co_await journal.get(holder.id);
  if (!row || rolled.outcome == Outcome::needs_operator) {
    rolled.outcome = rolled.outcome == Outcome::failed ? Outcome::done : rolled.outcome;
    co_return rolled;
  }
  co_return after_rollback(*row);
}

}  // namespace lbctl
