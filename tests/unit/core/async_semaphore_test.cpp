#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include "tests/support/catch.hpp"
#include <chrono>
#include <optional>
#include <vector>

#include "core/async_semaphore.hpp"

using namespace lbctl;
namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST_CASE("a semaphore lets at most its permits run at once, the rest in arrival order", "[core][semaphore]") {
  asio::io_context io;
  AsyncSemaphore turns(2);
  int running = 0, most = 0;
  std::vector<int> started;
  for (int i = 0; i < 6; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          auto permit = co_await turns.acquire();
          REQUIRE(permit.has_value());
          started.push_back(i);
          most = std::max(most, ++running);
          asio::steady_timer pause(io, 10ms);
          co_await pause.async_wait(asio::use_awaitable);
          --running;
        },
        asio::detached);
  }
  io.run();
  CHECK(most == 2);
  CHECK(started == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(turns.waiting() == 0);
}

TEST_CASE("closing a semaphore ends the waits without a permit, and a later release is harmless",
          "[core][semaphore]") {
  asio::io_context io;
  auto turns = std::make_unique<AsyncSemaphore>(1);
  std::optional<std::optional<AsyncSemaphore::Permit>> held;
  std::vector<bool> got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { held.emplace(co_await turns->acquire()); }, asio::detached);
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { got.push_back((co_await turns->acquire()).has_value()); }, asio::detached);
  }
  io.poll();
  REQUIRE(held.has_value());
  REQUIRE(held->has_value());
  CHECK(turns->waiting() == 2);
  turns.reset();  // closes
  io.run();
  CHECK(got == std::vector<bool>{false, false});
  held.reset();  // the permit outlives its semaphore
}
