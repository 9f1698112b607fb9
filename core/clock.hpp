#pragma once
// Time, behind an interface: the controller and the adapters' retry loops ask
// a Clock for the time and for sleeps, so unit tests drive them with a manual
// clock and never sleep.

#include <boost/asio/awaitable.hpp>
#include <chrono>

namespace lbctl {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // Monotonic now.
  virtual TimePoint now() const = 0;
  // Wall-clock now, for times that must survive the process (a resumed
  // cutover's terminate delay).
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
  // Suspends the calling coroutine for `d`; returns at once for d <= 0.
  virtual boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) = 0;
};

// The real clock: std::chrono::steady_clock and Asio timers.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override;
  std::chrono::system_clock::time_point wall_now() const override { return std::chrono::system_clock::now(); }
  boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) override;
};

}  // namespace lbctl
