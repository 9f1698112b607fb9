#pragma once
// Health as counters with thresholds (Envoy's model): consecutive passes
// count toward `rise`, consecutive failures toward `fall`, and each resets the
// other. When the next check runs is a pure function of the schedule and a
// random draw, so tests choose the draw.

#include <chrono>
#include <cstdint>

#include "core/clock.hpp"

namespace lbctl::health {

// What one result did to the verdict.
enum class Transition {
  unchanged,  // the verdict holds, and no threshold is being approached
  changed,    // this result flipped the verdict
  pending,    // counted toward a flip that has not happened yet
};

class HealthCounter {
 public:
  // Starts unhealthy with no passes. rise and fall below 1 count as 1.
  explicit HealthCounter(int rise, int fall = 1);

  // Records one round's result and says what it did to the verdict.
  Transition record(bool passed);

  bool healthy() const { return m_healthy; }
  int passes() const { return m_passes; }      // consecutive, since the last failure
  int failures() const { return m_failures; }  // consecutive, since the last pass

 private:
  int m_rise;
  int m_fall;
  int m_passes = 0;
  int m_failures = 0;
  bool m_healthy = false;
};

// The delay added to one round: `random` mapped onto [0, interval * percent / 100].
std::chrono::milliseconds jitter(std::chrono::milliseconds interval, int percent, std::uint64_t random);

// When the round after one that started at `round_started` begins: one
// interval later, plus the jitter. Rounds keep a fixed rate, so a slow answer
// does not stretch the schedule.
Clock::TimePoint next_check_at(Clock::TimePoint round_started, std::chrono::milliseconds interval,
                               std::chrono::milliseconds jitter);

// A small repeatable random source (splitmix64): the same seed, the same draws.
class Random {
 public:
  explicit Random(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next();

 private:
  std::uint64_t m_state;
};

}  // namespace lbctl::health
