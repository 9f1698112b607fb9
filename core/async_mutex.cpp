#include "core/async_mutex.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<AsyncMutex::Guard> AsyncMutex::lock() {
  if (!m_locked) {
    m_locked = true;
    co_return Guard(this);
  }
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  m_waiters.push_back(timer);
  // Woken by unlock() setting the expiry in the past (a cancel would be lost
  // if the wait had not started yet).
  while (timer->expiry() == asio::steady_timer::time_point::max()) {
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return Guard(this);
}

void AsyncMutex::unlock() {
  if (m_waiters.empty()) {
    m_locked = false;
    return;
  }
  auto next = m_waiters.front();
  m_waiters.pop_front();
  next->expires_at(asio::steady_timer::time_point::min());
}

}  // namespace lbctl
