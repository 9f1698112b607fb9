#include "lbctl/cutover/promotion_requests.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <expected>

#include "core/duration.hpp"
#include "core/time_format.hpp"
#include "lbctl/cutover/abort.hpp"
#include "lbctl/cutover/cutover.hpp"
#include "lbctl/cutover/events.hpp"
#include "lbctl/cutover/journal_calls.hpp"
#include "lbctl/cutover/progress.hpp"
#include "lbctl/cutover/promotion.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

CutoverOutcome refused_request(const Error& error) { return CutoverOutcome{outcome_for(error.kind), 0, error.message}; }

CutoverOutcome usage(std::int64_t id, std::string message) { return {Outcome::usage, id, std::move(message)}; }

std::string at(std::int64_t wall_ms) {
  return format_time(std::chrono::system_clock::time_point(std::chrono::milliseconds(wall_ms)), TimeFormat::human);
}

std::int64_t wall_ms(Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall_now().time_since_epoch()).count();
}

// The service's unfinished cutover and its resume record; an outcome when
// there is none.
struct Target {
  db::Cutover row;
  CutoverProgress progress;
  Step step = Step::preflight;
};

// The service's latest cutover (as the journal answered) as the target of
// `what`, or the outcome that says why there is none.
std::expected<Target, CutoverOutcome> target(const Result<std::optional<db::Cutover>>& latest,
                                             const std::string& service, std::string_view what) {
  if (!latest) return std::unexpected(refused_request(latest.error()));
  if (!*latest) return std::unexpected(usage(0, fmt::format("no cutover of service {} to {}", service, what)));
  Target t{**latest, {}, parse_step((*latest)->step).value_or(Step::preflight)};
  auto progress = read_progress(t.row.progress_json);
  if (!progress) {
    return std::unexpected(CutoverOutcome{Outcome::needs_operator, t.row.id,
                                          fmt::format("cutover {}: {}", t.row.id, progress.error().message)});
  }
  t.progress = std::move(*progress);
  return t;
}

// The same, read through the journal's lane.
asio::awaitable<std::expected<Target, CutoverOutcome>> target_of(const CutoverDeps& deps, std::string_view what) {
  co_return target(co_await JournalCalls(deps).latest(deps.config.service), deps.config.service, what);
}

// Why `lbctl promote` (or serve's) cannot promote `t` now; nullopt when it can.
std::optional<CutoverOutcome> promote_refusal(const Target& t, const std::string& service) {
  const auto& row = t.row;
  if (db::is_finished(row.status)) {
    return usage(row.id, fmt::format("no cutover of service {} to promote (the last one, {}, {})", service,
                                        row.id, db::to_string(row.status)));
  }
  if (!promotion_started_with(row).manual()) {
    return usage(row.id, fmt::format("cutover {} does not pause for promotion (it started with promotion.mode auto)",
                                        row.id));
  }
  if (t.progress.promoted_at_ms != 0) {
    return CutoverOutcome{Outcome::done, row.id,
                             fmt::format("cutover {} was already promoted by {} at {}", row.id, t.progress.promoted_by,
                                         at(t.progress.promoted_at_ms))};
  }
  if (t.step == Step::rollback || !t.progress.failure.step.empty()) {
    return usage(row.id, fmt::format("cutover {} is rolling back ({}): nothing to promote", row.id,
                                        t.progress.failure.message));
  }
  return std::nullopt;
}

// What a recorded promote does when the holder is not pausing right now.
CutoverOutcome promote_recorded(const Target& t) {
  const auto& row = t.row;
  if (row.status == db::CutoverStatus::interrupted || row.status == db::CutoverStatus::needs_operator) {
    return CutoverOutcome{Outcome::done, row.id,
                          fmt::format("promote recorded for cutover {} ({}): `lbctl resume` carries it on, promoted",
                                      row.id, db::to_string(row.status))};
  }
  if (t.step != Step::promote) {
    return CutoverOutcome{Outcome::done, row.id,
                          fmt::format("promote recorded for cutover {} (at step {}): it goes on to the drain without "
                                      "pausing",
                                      row.id, row.step)};
  }
  return CutoverOutcome{Outcome::done, row.id,
                        fmt::format("promote recorded for cutover {}: {} acts on it at its next poll", row.id,
                                    db::describe(row))};
}

// Why `lbctl undo` (or serve's) cannot undo `t` at `now` (wall ms); nullopt when it can.
std::optional<CutoverOutcome> undo_refusal(const Target& t, std::int64_t now) {
  const auto& row = t.row;
  const auto& p = t.progress;
  const auto window = promotion_started_with(row).undo_window;
  if (row.status == db::CutoverStatus::rolled_back) {
    if (!p.undone_by.empty()) {
      return CutoverOutcome{Outcome::done, row.id, fmt::format("cutover {} was already undone by {}", row.id, p.undone_by)};
    }
    return usage(row.id, fmt::format("cutover {} was rolled back ({}): nothing to undo", row.id, row.error));
  }
  if (window.count() <= 0) {
    return usage(row.id, fmt::format("cutover {} has no undo window (promotion.undo_window was 0s when it started): "
                                        "{}",
                                        row.id, row.status == db::CutoverStatus::completed
                                                    ? "it is past the point of no return"
                                                    : "`lbctl abort` rolls it back until post_migrate"));
  }
  if (row.status == db::CutoverStatus::completed || (p.undo_until_ms != 0 && now >= p.undo_until_ms) ||
      (t.step != Step::undo_window && t.step != Step::rollback && p.undo_until_ms != 0)) {
    const std::string closed = p.undo_until_ms != 0 ? at(p.undo_until_ms) : std::string("when post_migrate began");
    return usage(row.id, fmt::format("cutover {}'s undo window closed at {}: post_migrate is the point of no return "
                                        "(the old servers may be gone)",
                                        row.id, closed));
  }
  if (p.undo_until_ms == 0 && t.step != Step::rollback) {
    return usage(row.id, fmt::format("cutover {} has not detached the old servers yet (step {}): `lbctl abort` rolls "
                                        "it back",
                                        row.id, row.step));
  }
  return std::nullopt;
}

// How the holder's row reads while `lbctl promote` waits for it to act.
std::optional<HolderEnd> promotion_seen(const Result<db::Cutover>& row) {
  if (!row) return HolderEnd{refused_request(row.error())};
  const auto progress = read_progress(row->progress_json);
  if (progress && progress->promoted_at_ms != 0) {
    return HolderEnd{CutoverOutcome{Outcome::done, row->id,
                                    fmt::format("cutover {} promoted by {}: draining the old servers", row->id,
                                                progress->promoted_by)}};
  }
  if (row->status == db::CutoverStatus::interrupted) {
    return HolderEnd{CutoverOutcome{Outcome::done, row->id,
                                    fmt::format("promote recorded for cutover {}; its process went away: `lbctl "
                                                "resume` carries it on, promoted",
                                                row->id)}};
  }
  if (row->status != db::CutoverStatus::running) {
    return HolderEnd{CutoverOutcome{Outcome::failed, row->id,
                                    fmt::format("cutover {} ended {} before it was promoted{}", row->id,
                                                db::to_string(row->status), row->error.empty() ? "" : ": " + row->error)}};
  }
  return std::nullopt;
}

asio::awaitable<CutoverOutcome> wait_for_promotion(CutoverDeps& deps, const db::Cutover& holder,
                                                   const FollowOptions& options) {
  const auto timeout = options.timeout.value_or(30s);
  auto recent = co_await JournalCalls(deps).recent_events(holder.id, 1);
  const std::int64_t seen = recent && !recent->empty() ? recent->back().id : 0;
  std::function<std::optional<HolderEnd>(const Result<db::Cutover>&)> read = promotion_seen;
  std::function<CutoverOutcome()> late = [&holder, timeout]() {
    return CutoverOutcome{Outcome::locked, holder.id,
                          fmt::format("promote recorded, but {} has not acted on it after {}; it will at its next "
                                      "poll (`lbctl status` shows it)",
                                      db::describe(holder), format_duration(timeout))};
  };
  auto followed = co_await follow_holder(deps, holder, seen, timeout, options, std::move(read), std::move(late));
  co_return followed.value_or(CutoverOutcome{Outcome::done, holder.id, ""});
}

}  // namespace

asio::awaitable<CutoverOutcome> promote_cutover(CutoverDeps deps, FollowOptions options, std::string by) {
  const auto found = co_await target_of(deps, "promote");
  if (!found) co_return found.error();
  if (auto refusal = promote_refusal(*found, deps.config.service)) co_return *refusal;
  auto asked = co_await JournalCalls(deps).request_promote(deps.config.service, by);
  if (!asked) co_return refused_request(asked.error());
  // Not pausing now: the request waits in the journal for the step (or the resume) that reads it.
  const auto status = found->row.status;
  if (status == db::CutoverStatus::interrupted || status == db::CutoverStatus::needs_operator ||
      found->step != Step::promote) {
    co_return promote_recorded(*found);
  }
  co_return co_await wait_for_promotion(deps, found->row, options);
}

asio::awaitable<CutoverOutcome> undo_cutover(CutoverDeps deps, FollowOptions options, std::string by) {
  const auto found = co_await target_of(deps, "undo");
  if (!found) co_return found.error();
  const Target& t = *found;
  const auto& row = t.row;
  const JournalCalls journal(deps);
  const auto& p = t.progress;
  if (auto refusal = undo_refusal(t, wall_ms(deps.clock))) co_return *refusal;
  if (t.step == Step::undo_window) {
    if (auto asked = co_await journal.request_undo(deps.config.service, by); !asked) co_return refused_request(asked.error());
  }
  std::optional<CutoverOutcome> result;
  if (row.status == db::CutoverStatus::running) result = co_await follow_rollback(deps, row, options);
  if (!result) result = co_await resume_cutover(deps);  // its process is gone: the undo (or its rollback) runs here
  auto after = co_await journal.get(row.id);
  if (after && after->status == db::CutoverStatus::completed) {
    co_return usage(row.id, fmt::format("cutover {}'s undo window closed at {} before it saw the undo: post_migrate is "
                                        "the point of no return",
                                        row.id, at(p.undo_until_ms)));
  }
  if (after && after->status == db::CutoverStatus::rolled_back) {
    co_return CutoverOutcome{Outcome::done, row.id,
                             fmt::format("cutover {} undone: the old pool is back on every load balancer ({})", row.id,
                                         after->error)};
  }
  co_return *result;
}

std::string_view to_string(Request request) {
  switch (request) {
    case Request::promote: return "promote";
    case Request::abort: return "abort";
    case Request::undo: return "undo";
  }
  return "?";
}

CutoverOutcome record_request(db::Journal& journal, const std::string& service, Request what, const std::string& by,
                              std::int64_t now_ms) {
  const auto found = target(journal.latest(service), service, to_string(what));
  if (!found) return found.error();
  const Target& t = *found;
  const auto& row = t.row;
  if (what == Request::promote) {
    if (auto refusal = promote_refusal(t, service)) return *refusal;
  } else if (what == Request::undo) {
    if (auto refusal = undo_refusal(t, now_ms)) return *refusal;
  } else if (db::is_finished(row.status)) {
    return usage(row.id, fmt::format("no cutover of service {} to abort (the last one, {}, {})", service, row.id,
                                     db::to_string(row.status)));
  }
  if (what != Request::promote && row.status != db::CutoverStatus::running) {
    // Nobody would act on it: the rollback has to run somewhere that reaches the fleet.
    return CutoverOutcome{Outcome::locked, row.id,
                          fmt::format("cutover {} is {}: its process is gone, so `lbctl {}` on a host that reaches "
                                      "the load balancers carries it out",
                                      row.id, db::to_string(row.status), to_string(what))};
  }
  Result<std::int64_t> asked = what == Request::promote ? journal.request_promote(service, by)
                               : what == Request::undo  ? journal.request_undo(service, by)
                                                        : journal.request_abort(service);
  if (!asked) return refused_request(asked.error());
  const std::string text = fmt::format("{} requested by {}", to_string(what), by);
  nlohmann::json detail = {{"text", text}, {"request", to_string(what)}, {"by", by}};
  // The request itself is journaled; this event says who asked (abort's column does not).
  (void)journal.add_event(row.id, row.step, to_string(EventKind::requested), detail.dump());
  if (what == Request::promote) return promote_recorded(t);
  return CutoverOutcome{Outcome::done, row.id,
                        fmt::format("{} recorded for cutover {}: {} acts on it at its next poll", to_string(what),
                                    row.id, db::describe(row))};
}

}  // namespace lbctl
