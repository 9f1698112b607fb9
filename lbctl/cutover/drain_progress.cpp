#include "lbctl/cutover/drain_progress.hpp"

#include <cmath>

namespace lbctl {

void DrainProgress::add(TimePoint at, std::uint64_t sessions_left) {
  if (!m_started) {
    m_start = sessions_left;
    m_started = true;
  }
  m_samples.push_back({at, sessions_left});
  while (m_samples.size() > 2 && m_samples.front().at < at - m_window) m_samples.pop_front();
}

std::optional<double> DrainProgress::rate_per_second() const {
  if (m_samples.size() < 2) return std::nullopt;
  const auto& first = m_samples.front();
  const auto& last = m_samples.back();
  const double seconds = std::chrono::duration<double>(last.at - first.at).count();
  if (seconds <= 0) return std::nullopt;
  const double fallen = static_cast<double>(first.left) - static_cast<double>(last.left);
  return fallen > 0 ? fallen / seconds : 0.0;
}

std::optional<std::int64_t> DrainProgress::eta_seconds() const {
  const auto rate = rate_per_second();
  if (!rate || *rate <= 0) return std::nullopt;
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(left()) / *rate));
}

nlohmann::json DrainProgress::details() const {
  nlohmann::json details = {{"sessions_left", left()}, {"sessions_at_start", at_start()}};
  if (auto rate = rate_per_second()) details["rate_per_s"] = *rate;
  if (auto eta = eta_seconds()) details["eta_s"] = *eta;
  return details;
}

}  // namespace lbctl
