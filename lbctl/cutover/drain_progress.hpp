#pragma once
// How fast the old servers' sessions fall and when they will be gone: a rate
// over a sliding window of samples, and an ETA from it. Pure: fed samples.

#include <chrono>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>

namespace lbctl {

class DrainProgress {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit DrainProgress(std::chrono::milliseconds window = std::chrono::seconds(10)) : m_window(window) {}

  void add(TimePoint at, std::uint64_t sessions_left);

  std::uint64_t left() const { return m_samples.empty() ? 0 : m_samples.back().left; }
  std::uint64_t at_start() const { return m_start; }
  // Sessions ended per second over the window; nullopt until two samples
  // span some time. Never negative: new sessions on an old server (a
  // persistent client) show as no progress.
  std::optional<double> rate_per_second() const;
  // Seconds until zero at that rate; nullopt when the rate is zero or unknown.
  std::optional<std::int64_t> eta_seconds() const;
  // {"sessions_left", "sessions_at_start", "rate_per_s", "eta_s"} (the last
  // two when known): what --json, `status` and the live display show.
  nlohmann::json details() const;

 private:
  struct Sample {
    TimePoint at;
    std::uint64_t left;
  };
  std::chrono::milliseconds m_window;
  std::deque<Sample> m_samples;
  std::uint64_t m_start = 0;
  bool m_started = false;
};

}  // namespace lbctl
