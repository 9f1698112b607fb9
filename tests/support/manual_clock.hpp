#pragma once
// Simulated time for unit tests. Sleepers wait on a queue; when nothing else
// can run, the test driver moves time to the earliest wake-up. No test sleeps.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "core/clock.hpp"

namespace lbctl::test {

class ManualClock final : public Clock {
 public:
  TimePoint now() const override { return m_now; }
  // Wall time moves with the manual clock, from a fixed start.
  std::chrono::system_clock::time_point wall_now() const override { return k_wall_epoch + elapsed(); }
  boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) override;

  // Moves to the earliest sleeper's wake-up and wakes every sleeper due then.
  // False when nobody sleeps.
  bool advance();
  // Moves forward by `d`, waking whoever is due on the way.
  void advance_by(std::chrono::milliseconds d);
  // Time since the clock was made.
  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(m_now - k_epoch);
  }
  std::size_t sleepers() const { return m_sleepers.size(); }

 private:
  static constexpr TimePoint k_epoch{std::chrono::hours(1000)};
  static constexpr std::chrono::system_clock::time_point k_wall_epoch{std::chrono::seconds(1'800'000'000)};
  TimePoint m_now{k_epoch};
  std::multimap<TimePoint, std::shared_ptr<boost::asio::steady_timer>> m_sleepers;
};

// An io_context and a manual clock: run() drives a coroutine to its end,
// advancing the clock whenever no handler is ready.
class Simulation {
 public:
  boost::asio::io_context io;
  ManualClock clock;

  template <class T>
  T run(boost::asio::awaitable<T> task) {
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
      error = e;
      if (!e) result.emplace(std::move(value));
      done = true;
    });
    drive(done);
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }

  void run(boost::asio::awaitable<void> task) {
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    drive(done);
    if (error) std::rethrow_exception(error);
  }

 private:
  void drive(const bool& done);
};

}  // namespace lbctl::test
