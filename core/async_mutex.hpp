#pragma once
// A mutex for coroutines on one io_context: lock() suspends until the holder
// lets go, and hands the lock to waiters in arrival order. Used where a
// read-modify-write spans a co_await (a file rewritten by several LBs).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>

namespace lbctl {

class AsyncMutex {
 public:
  // Unlocks when it goes away.
  class Guard {
   public:
    explicit Guard(AsyncMutex* mutex) : m_mutex(mutex) {}
    Guard(Guard&& other) noexcept : m_mutex(std::exchange(other.m_mutex, nullptr)) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    Guard& operator=(Guard&&) = delete;
    ~Guard() {
      if (m_mutex) m_mutex->unlock();
    }

   private:
    AsyncMutex* m_mutex;
  };

  boost::asio::awaitable<Guard> lock();
  bool locked() const { return m_locked; }

 private:
  void unlock();

  bool m_locked = false;
  // Each waiter sleeps on its own timer; the holder's unlock wakes the first
  // and passes the lock on without releasing it.
  std::deque<std::shared_ptr<boost::asio::steady_timer>> m_waiters;
};

}  // namespace lbctl
