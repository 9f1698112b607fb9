#include "core/time_format.hpp"

#include <ctime>
#include <fmt/format.h>

namespace lbctl {

std::string format_time(std::chrono::system_clock::time_point time, TimeFormat format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  const char* pattern = format == TimeFormat::human     ? "%Y-%m-%d %H:%M:%S UTC"
                        : format == TimeFormat::compact ? "%Y%m%dT%H%M%SZ"
                                                        : "%Y-%m-%dT%H:%M:%S";
  char buffer[40];
  std::strftime(buffer, sizeof buffer, pattern, &tm);
  if (format == TimeFormat::iso) return std::string(buffer) + "Z";
  if (format == TimeFormat::iso_ms) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
    return fmt::format("{}.{:03}Z", buffer, (ms + 1000) % 1000);
  }
  return buffer;
}

}  // namespace lbctl
