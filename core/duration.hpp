#pragma once
// Durations as users write them: 100ms, 2s, 5m, 1h (and 0s).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace lbctl {

using Duration = std::chrono::milliseconds;

// "100ms" -> 100ms; nullopt for anything else (no sign, no fraction, one unit).
std::optional<Duration> parse_duration(std::string_view text);

// The shortest exact spelling: 1500ms -> "1500ms", 120000ms -> "2m".
std::string format_duration(Duration d);

// Seconds with one decimal for humans: 1234ms -> "1.2s".
std::string format_seconds(Duration d);

}  // namespace lbctl
