#include "lbctl/cutover/promotion.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>

#include "core/duration.hpp"

namespace lbctl {

namespace {

std::optional<std::int64_t> left(Duration after, std::int64_t elapsed) {
  if (after.count() <= 0) return std::nullopt;
  return after.count() - elapsed;
}

std::string in(std::int64_t ms) {
  return format_duration(std::chrono::milliseconds(std::max<std::int64_t>(ms, 0)));
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

}  // namespace lbctl
