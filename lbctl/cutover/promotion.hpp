#pragma once
// The promotion gate's timers and the undo window, as pure functions of the
// config and the resume record: what the controller acts on and what
// `status` shows are the same numbers.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "db/journal.hpp"
#include "lbctl/config/config.hpp"

namespace lbctl {

// The time left (ms; <= 0: run out) on each timer of a pause that began at
// `paused_at_ms`; nullopt for a timer the config does not set.
struct PauseTimers {
  std::optional<std::int64_t> promote_in_ms;
  std::optional<std::int64_t> abort_in_ms;

  // The timer that acts now, if one ran out (the shorter one when both did:
  // it ran out first).
  bool promote_due() const;
  bool abort_due() const;
};
PauseTimers pause_timers(const PromotionConfig& promotion, std::int64_t paused_at_ms, std::int64_t now_ms);

// "auto promote in 9m58s, auto abort in 29m58s"; "no timers" when none is set.
std::string describe(const PauseTimers& timers);

// The promotion settings a cutover started with (its config snapshot): one
// started by an lbctl before promotion existed had neither a pause nor a
// window.
PromotionConfig promotion_started_with(const db::Cutover& row);

// What `status` (and its JSON) shows of a cutover's promotion gate and undo
// window at wall time `now_ms`: mode, state (waiting, paused, promoted,
// undo_window, undone, closed), when and by whom, the time left on each
// timer and in the window. null for a cutover that has neither.
nlohmann::json promotion_status(const db::Cutover& row, std::int64_t now_ms);

}  // namespace lbctl
