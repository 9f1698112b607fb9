// Blocking work on a Lane: the event loop goes on meanwhile, results come
// back on the loop's thread, work posted to one lane runs in order.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include "tests/support/catch.hpp"
#include <thread>

#include "core/async.hpp"
#include "core/off_loop.hpp"
#include "core/run.hpp"

using namespace lbctl;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Ticks every 10 ms until `done`; returns how many times.
asio::awaitable<int> tick_until(const bool& done) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  int ticks = 0;
  while (!done) {
    timer.expires_after(10ms);
    co_await timer.async_wait(asio::use_awaitable);
    ++ticks;
  }
  co_return ticks;
}

}  // namespace

TEST_CASE("work that blocks for 300 ms on a lane leaves the loop running, the caller resumes on the loop",
          "[core][offload]") {
  asio::io_context io;
  Lane lane;
  const Offload offload{io.get_executor(), lane.executor()};
  const auto loop_thread = std::this_thread::get_id();
  bool done = false;
  std::thread::id worked_on;
  std::thread::id resumed_on;
  auto blocking = [&]() -> asio::awaitable<int> {
    const int value = co_await off_loop<int>(offload, std::function<int()>([&] {
                                               worked_on = std::this_thread::get_id();
                                               std::this_thread::sleep_for(300ms);
                                               return 42;
                                             }));
    resumed_on = std::this_thread::get_id();
    done = true;
    co_return value;
  };
  int ticks = 0;
  auto both = [&]() -> asio::awaitable<int> {
    std::vector<asio::awaitable<int>> tasks;
    tasks.push_back(blocking());
    tasks.push_back(tick_until(done));
    auto results = co_await when_all(std::move(tasks));
    ticks = results[1];
    co_return results[0];
  };
  CHECK(run_to_end(io, both()) == 42);
  CHECK(worked_on != loop_thread);
  CHECK(resumed_on == loop_thread);
  // Inline, the loop would not have ticked at all while the work slept.
  CHECK(ticks >= 15);
}

TEST_CASE("work posted to a lane without waiting runs in order, each completion runs on the loop", "[core][offload]") {
  asio::io_context io;
  Lane lane;
  const Offload offload{io.get_executor(), lane.executor()};
  const auto loop_thread = std::this_thread::get_id();
  std::vector<int> ran;       // touched on the lane only
  std::vector<int> finished;  // touched on the loop only
  bool all_on_loop = true;
  for (int i = 0; i < 50; ++i) {
    off_loop_then<int>(
        offload,
        [&ran, i] {
          if (i % 10 == 0) std::this_thread::sleep_for(5ms);
          ran.push_back(i);
          return i;
        },
        [&](int value) {
          all_on_loop = all_on_loop && std::this_thread::get_id() == loop_thread;
          finished.push_back(value);
        });
  }
  io.run();  // returns once every completion has come back
  std::vector<int> expected(50);
  for (int i = 0; i < 50; ++i) expected[static_cast<std::size_t>(i)] = i;
  CHECK(finished == expected);
  CHECK(ran == expected);
  CHECK(all_on_loop);
}

TEST_CASE("without a lane the same calls run inline", "[core][offload]") {
  asio::io_context io;
  const Offload inline_offload{};
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id worked_on;
  auto task = [&]() -> asio::awaitable<int> {
    co_return co_await off_loop<int>(inline_offload, std::function<int()>([&] {
                                       worked_on = std::this_thread::get_id();
                                       return 7;
                                     }));
  };
  CHECK(run_to_end(io, task()) == 7);
  CHECK(worked_on == loop_thread);
  int got = 0;
  off_loop_then<int>(inline_offload, [] { return 9; }, [&](int v) { got = v; });
  CHECK(got == 9);  // at once
}
