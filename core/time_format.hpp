#pragma once
// UTC times as lbctl writes them, in one place.

#include <chrono>
#include <string>

namespace lbctl {

enum class TimeFormat {
  human,    // "2026-11-21 10:15:30 UTC"  (messages)
  iso,      // "2026-11-21T10:15:30Z"     (JSON)
  iso_ms,   // "2026-11-21T10:15:30.123Z" (events)
  compact,  // "20261121T101530Z"         (file names: sortable, no ':')
};

std::string format_time(std::chrono::system_clock::time_point time, TimeFormat format);

}  // namespace lbctl
