#include "tests/support/manual_clock.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace lbctl::test {

namespace asio = boost::asio;

asio::awaitable<void> ManualClock::sleep_for(std::chrono::milliseconds d) {
  auto executor = co_await asio::this_coro::executor;
  if (d.count() <= 0) {
    // Still yield, so a polling loop lets others run.
    co_await asio::post(executor, asio::use_awaitable);
    co_return;
  }
  auto timer = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  m_sleepers.emplace(m_now + d, timer);
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

bool ManualClock::advance() {
  if (m_sleepers.empty()) return false;
  const TimePoint due = m_sleepers.begin()->first;
  if (due > m_now) m_now = due;
  while (!m_sleepers.empty() && m_sleepers.begin()->first <= m_now) {
    m_sleepers.begin()->second->cancel();
    m_sleepers.erase(m_sleepers.begin());
  }
  return true;
}

void ManualClock::advance_by(std::chrono::milliseconds d) {
  const TimePoint target = m_now + d;
  while (!m_sleepers.empty() && m_sleepers.begin()->first <= target) advance();
  m_now = target;
}

void Simulation::drive(const bool& done) {
  io.restart();
  while (!done) {
    if (io.poll() > 0) continue;
    if (io.stopped()) io.restart();
    if (done) break;
    if (!clock.advance()) throw std::logic_error("simulation stuck: no handler ready and nobody sleeps");
  }
}

}  // namespace lbctl::test
