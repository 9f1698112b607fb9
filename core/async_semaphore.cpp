#include "core/async_semaphore.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>

namespace lbctl {

namespace asio = boost::asio;

struct AsyncSemaphore::State {
  struct Waiter {
    explicit Waiter(asio::any_io_executor executor) : timer(std::move(executor), asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool granted = false;  // woken with a permit (false when woken by close())
  };
  std::size_t free = 0;
  bool closed = false;
  std::deque<std::shared_ptr<Waiter>> waiters;

  // A permit comes back: to the longest waiter, without being freed between.
  void release() {
    if (closed) return;
    if (waiters.empty()) {
      ++free;
      return;
    }
    auto next = std::move(waiters.front());
    waiters.pop_front();
    next->granted = true;
    // Woken by an expiry in the past (a cancel would be lost if the wait had
    // not started yet).
    next->timer.expires_at(asio::steady_timer::time_point::min());
  }
};

AsyncSemaphore::Permit::~Permit() {
  if (m_state) m_state->release();
}

AsyncSemaphore::AsyncSemaphore(std::size_t permits) : m_state(std::make_shared<State>()) { m_state->free = permits; }

AsyncSemaphore::~AsyncSemaphore() { close(); }

asio::awaitable<std::optional<AsyncSemaphore::Permit>> AsyncSemaphore::acquire() {
  auto state = m_state;  // the coroutine may outlive the semaphore
  if (state->closed) co_return std::nullopt;
  if (state->free > 0 && state->waiters.empty()) {
    --state->free;
    co_return Permit(state);
  }
  auto waiter = std::make_shared<State::Waiter>(co_await asio::this_coro::executor);
  state->waiters.push_back(waiter);
  while (waiter->timer.expiry() == asio::steady_timer::time_point::max()) {
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!waiter->granted) co_return std::nullopt;
  co_return Permit(state);
}

void AsyncSemaphore::close() {
  m_state->closed = true;
  for (auto& waiter : m_state->waiters) waiter->timer.expires_at(asio::steady_timer::time_point::min());
  m_state->waiters.clear();
}

std::size_t AsyncSemaphore::waiting() const { return m_state->waiters.size(); }

}  // namespace lbctl
