#include "lbctl/cutover/promotion.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/time_format.hpp"
#include "lbctl/cutover/progress.hpp"
#include "lbctl/cutover/step.hpp"

namespace lbctl {

namespace {

std::optional<std::int64_t> left(Duration after, std::int64_t elapsed) {
  if (after.count() <= 0) return std::nullopt;
  return after.count() - elapsed;
}

std::string in(std::int64_t ms) {
  return format_duration(std::chrono::milliseconds(std::max<std::int64_t>(ms, 0)));
}

std::string iso_of(std::int64_t wall_ms) {
  return format_time(std::chrono::system_clock::time_point(std::chrono::milliseconds(wall_ms)), TimeFormat::iso_ms);
}

Duration duration_in(const nlohmann::json& section, const char* key) {
  if (!section.contains(key) || !section[key].is_string()) return Duration{0};
  return parse_duration(section[key].get<std::string>()).value_or(Duration{0});
}

}  // namespace

PauseTimers pause_timers(const PromotionConfig& promotion, std::int64_t paused_at_ms, std::int64_t now_ms) {
  const std::int64_t elapsed = std::max<std::int64_t>(now_ms - paused_at_ms, 0);
  return {left(promotion.auto_promote_after, elapsed), left(promotion.auto_abort_after, elapsed)};
}

bool PauseTimers::promote_due() const {
  if (!promote_in_ms || *promote_in_ms > 0) return false;
  return !abort_in_ms || *abort_in_ms > 0 || *promote_in_ms < *abort_in_ms;  // ran out first
}

bool PauseTimers::abort_due() const {
  if (!abort_in_ms || *abort_in_ms > 0) return false;
  return !promote_due();
}

std::string describe(const PauseTimers& timers) {
  std::string out;
  if (timers.promote_in_ms) out = "auto promote in " + in(*timers.promote_in_ms);
  if (timers.abort_in_ms) out += (out.empty() ? "" : ", ") + std::string("auto abort in ") + in(*timers.abort_in_ms);
  return out.empty() ? "no timers" : out;
}

PromotionConfig promotion_started_with(const db::Cutover& row) {
  PromotionConfig promotion;
  const auto snapshot = nlohmann::json::parse(row.config_json, nullptr, false);
  if (!snapshot.is_object() || !snapshot.contains("promotion") || !snapshot["promotion"].is_object()) return promotion;
  const auto& p = snapshot["promotion"];
  if (p.contains("mode") && p["mode"].is_string()) {
    promotion.mode = parse_promotion_mode(p["mode"].get<std::string>()).value_or(PromotionConfig::Mode::automatic);
  }
  promotion.auto_promote_after = duration_in(p, "auto_promote_after");
  promotion.auto_abort_after = duration_in(p, "auto_abort_after");
  promotion.undo_window = duration_in(p, "undo_window");
  return promotion;
}

nlohmann::json promotion_status(const db::Cutover& row, std::int64_t now_ms) {
  const auto promotion = promotion_started_with(row);
  const auto progress = read_progress(row.progress_json);
  if ((!promotion.manual() && promotion.undo_window.count() <= 0) || !progress) return nullptr;
  const bool open = !db::is_finished(row.status);
  nlohmann::json j = {{"mode", to_string(promotion.mode)}, {"undo_window", format_duration(promotion.undo_window)}};
  std::string state = "waiting";
  if (progress->paused_at_ms != 0) j["paused_at"] = iso_of(progress->paused_at_ms);
  if (progress->promoted_at_ms != 0) {
    state = "promoted";
    j["promoted_at"] = iso_of(progress->promoted_at_ms);
    j["promoted_by"] = progress->promoted_by;
  } else if (open && row.step == to_string(Step::promote) && progress->paused_at_ms != 0) {
    state = "paused";
    const auto timers = pause_timers(promotion, progress->paused_at_ms, now_ms);
    if (timers.promote_in_ms) j["auto_promote_in_ms"] = std::max<std::int64_t>(*timers.promote_in_ms, 0);
    if (timers.abort_in_ms) j["auto_abort_in_ms"] = std::max<std::int64_t>(*timers.abort_in_ms, 0);
    j["timers"] = describe(timers);
  }
  if (row.promote_requested_at && progress->promoted_at_ms == 0) j["promote_requested_by"] = row.promote_requested_by;
  if (progress->undo_until_ms != 0) {
    j["undo_until"] = iso_of(progress->undo_until_ms);
    const std::int64_t left = progress->undo_until_ms - now_ms;
    if (open && row.step == to_string(Step::undo_window) && left > 0) {
      state = "undo_window";
      j["undo_left_ms"] = left;
    } else if (progress->undone_by.empty()) {
      state = "closed";
    }
  }
  if (!progress->undone_by.empty()) {
    state = "undone";
    j["undone_by"] = progress->undone_by;
  }
  j["state"] = state;
  return j;
}

}  // namespace lbctl
