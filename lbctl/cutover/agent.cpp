#include "lbctl/cutover/agent.hpp"

#include <fmt/format.h>

#include "core/duration.hpp"
#include "db/sha256.hpp"
#include "lbctl/config/config_snapshot.hpp"
#include "lbctl/cutover/cutover.hpp"
#include "lbctl/cutover/journal_calls.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

AgentTick idle(std::string why) { return AgentTick{AgentAction::idle, std::move(why), std::nullopt, 0, 0}; }

// The service's unfinished cutover: adopted once its lease ran out (its
// runner died, was cut off, or gave it up); left alone while its runner
// holds it, and when it waits for a person (needs_operator).
asio::awaitable<AgentTick> look_after(CutoverDeps& deps, const db::Cutover& unfinished) {
  if (unfinished.status == db::CutoverStatus::needs_operator) {
    co_return idle(fmt::format("{} needs an operator (`lbctl resume` or `lbctl abort`)", db::describe(unfinished)));
  }
  auto left = co_await JournalCalls(deps).lease_left(deps.config.service);
  if (!left) co_return idle("state database: " + left.error().message);
  if (left->count() > 0) {
    co_return idle(fmt::format("{} is held by its runner (its lease runs out in {} unless it beats)",
                               db::describe(unfinished), format_duration(*left)));
  }
  AgentTick tick{AgentAction::took_over, "", std::nullopt, 0, unfinished.id};
  tick.outcome = co_await resume_cutover(deps);
  // Nothing changed and nothing taken: another agent adopted it first (it
  // holds the lock now), its journaled step is not in this config's flow,
  // or an LB did not answer the first look. Tried again at the next poll,
  // said once.
  const Outcome o = tick.outcome->outcome;
  if (o == Outcome::locked || o == Outcome::usage || o == Outcome::unreachable) {
    co_return idle(fmt::format("{} not taken over: {}", db::describe(unfinished), tick.outcome->message));
  }
  co_return tick;
}

}  // namespace

std::string config_digest(const Config& config) { return db::sha256_hex(config_snapshot(config).dump()); }

asio::awaitable<AgentTick> agent_tick(CutoverDeps deps) {
  const JournalCalls journal(deps);
  auto latest = co_await journal.latest(deps.config.service);
  if (!latest) co_return idle("state database: " + latest.error().message);
  if (*latest && !db::is_finished((*latest)->status)) co_return co_await look_after(deps, **latest);
  auto queue = co_await journal.request_queue(deps.config.service, 0);
  if (!queue) co_return idle("state database: " + queue.error().message);
  if (queue->empty()) co_return idle("no request queued");
  const db::CutoverRequest request = queue->front();
  // A request that names no release (serve's POST without one) deploys what
  // `lbctl cutover` would: the config's release:, else r<cutover id>.
  deps.release = request.release.empty() ? deps.config.release : request.release;
  deps.request_id = request.id;
  deps.request_digest = request.config_digest;
  AgentTick tick{AgentAction::ran_request, "", std::nullopt, request.id, 0};
  tick.outcome = co_await run_cutover(deps, CutoverOptions{});
  tick.cutover_id = tick.outcome->cutover_id;
  // begin() refused: another agent took the request, or the service, first.
  if (tick.outcome->outcome == Outcome::locked && tick.cutover_id == 0) {
    co_return idle(fmt::format("request {} not taken: {}", request.id, tick.outcome->message));
  }
  co_return tick;
}

std::optional<CutoverOutcome> ended_as(const db::Cutover& row) {
  const std::string why = row.error.empty() ? std::string() : ": " + row.error;
  switch (row.status) {
    case db::CutoverStatus::completed:
      return CutoverOutcome{Outcome::done, row.id, fmt::format("cutover {} completed: release {}", row.id, row.release)};
    case db::CutoverStatus::rolled_back:
      return CutoverOutcome{Outcome::failed, row.id, fmt::format("cutover {} rolled back{}", row.id, why)};
    case db::CutoverStatus::stopped:
      return CutoverOutcome{Outcome::failed, row.id, fmt::format("cutover {} stopped before any change{}", row.id, why)};
    case db::CutoverStatus::needs_operator:
      return CutoverOutcome{Outcome::needs_operator, row.id, fmt::format("cutover {} needs an operator{}", row.id, why)};
    case db::CutoverStatus::running:
    case db::CutoverStatus::interrupted: break;
  }
  return std::nullopt;
}

asio::awaitable<CutoverOutcome> wait_for_request(CutoverDeps deps, std::int64_t request_id, FollowOptions options,
                                                 std::function<void(const db::CutoverRequest&)> on_taken) {
  const JournalCalls journal(deps);
  db::CutoverRequest taken;
  for (;;) {
    auto read = co_await journal.cutover_request(request_id);
    if (!read && read.error().kind == ErrorKind::invalid) co_return CutoverOutcome{Outcome::usage, 0, read.error().message};
    if (read && read->state == "taken") {
      taken = *read;
      break;
    }
    // Not taken yet, or the state database out of reach for now: asked again.
    co_await deps.clock.sleep_for(options.poll);
  }
  if (on_taken) on_taken(taken);
  db::Cutover holder;
  holder.id = taken.cutover_id;
  std::function<std::optional<HolderEnd>(const Result<db::Cutover>&)> read =
      [](const Result<db::Cutover>& row) -> std::optional<HolderEnd> {
    if (!row) return std::nullopt;
    if (auto end = ended_as(*row)) return HolderEnd{std::move(end)};
    return std::nullopt;
  };
  std::function<CutoverOutcome()> late = [] { return CutoverOutcome{}; };  // no timeout: never called
  auto ended = co_await follow_holder(deps, holder, 0, std::nullopt, options, std::move(read), std::move(late));
  co_return ended.value_or(CutoverOutcome{Outcome::needs_operator, taken.cutover_id, "the cutover did not end"});
}

}  // namespace lbctl
