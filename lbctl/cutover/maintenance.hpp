#pragma once
// Maintenance mode: every LB answers every request with a
// 503 page carrying a message and the expected end, switched through the
// runtime API without a reload. The page's text lives in an HAProxy map that
// the frontend consults (configs/haproxy.cfg shows the lines).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

inline constexpr const char* k_maintenance_key = "maintenance";

// "MESSAGE (expected back by 2026-11-21 12:30 UTC)", or MESSAGE alone.
std::string maintenance_text(const std::string& message, std::optional<Duration> duration,
                             std::chrono::system_clock::time_point now);

// Fails (invalid) naming every LB that has not loaded `map`, and saying what
// its config needs; unreachable LBs fail as such.
boost::asio::awaitable<Result<void>> check_maintenance_map(pools::Fleet& fleet, std::string map);

// Turns the page on with `text` on every LB, or on none: when one LB fails,
// the ones already switched are switched back.
boost::asio::awaitable<Result<void>> maintenance_on(pools::Fleet& fleet, std::string map, std::string text);

// Turns the page off on every LB (traffic flows again).
boost::asio::awaitable<Result<void>> maintenance_off(pools::Fleet& fleet, std::string map);

}  // namespace lbctl
