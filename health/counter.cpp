#include "health/counter.hpp"

#include <algorithm>

namespace lbctl::health {

HealthCounter::HealthCounter(int rise, int fall) : m_rise(std::max(rise, 1)), m_fall(std::max(fall, 1)) {}

Transition HealthCounter::record(bool passed) {
  if (passed) {
    m_failures = 0;
    ++m_passes;
    if (m_healthy) return Transition::unchanged;
    if (m_passes < m_rise) return Transition::pending;
    m_healthy = true;
    return Transition::changed;
  }
  m_passes = 0;
  ++m_failures;
  if (!m_healthy) return Transition::unchanged;
  if (m_failures < m_fall) return Transition::pending;
  m_healthy = false;
  return Transition::changed;
}

std::chrono::milliseconds jitter(std::chrono::milliseconds interval, int percent, std::uint64_t random) {
  if (percent <= 0 || interval.count() <= 0) return std::chrono::milliseconds(0);
  const auto span = static_cast<std::uint64_t>(interval.count()) * static_cast<std::uint64_t>(std::min(percent, 100)) / 100;
  return std::chrono::milliseconds(static_cast<std::int64_t>(random % (span + 1)));
}

Clock::TimePoint next_check_at(Clock::TimePoint round_started, std::chrono::milliseconds interval,
                               std::chrono::milliseconds jitter) {
  return round_started + std::max(interval, std::chrono::milliseconds(0)) + std::max(jitter, std::chrono::milliseconds(0));
}

std::uint64_t Random::next() {
  std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace lbctl::health
