#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

asio::awaitable<int> sleep_then_return(Clock& clock, std::chrono::milliseconds d, int value) {
  co_await clock.sleep_for(d);
  co_return value;
}

}  // namespace

TEST_CASE("when_all runs tasks concurrently and keeps their order", "[core]") {
  test::Simulation sim;
  std::vector<asio::awaitable<int>> tasks;
  tasks.push_back(sleep_then_return(sim.clock, 300ms, 1));
  tasks.push_back(sleep_then_return(sim.clock, 100ms, 2));
  tasks.push_back(sleep_then_return(sim.clock, 200ms, 3));
  const auto results = sim.run(when_all(std::move(tasks)));
  CHECK(results == std::vector<int>{1, 2, 3});
  // Concurrent: the longest sleep, not the sum.
  CHECK(sim.clock.elapsed() == 300ms);
}

TEST_CASE("when_all of nothing returns at once", "[core]") {
  test::Simulation sim;
  const auto results = sim.run(when_all(std::vector<asio::awaitable<int>>{}));
  CHECK(results.empty());
  CHECK(sim.clock.elapsed() == 0ms);
}

TEST_CASE("the manual clock wakes sleepers in time order without sleeping", "[core]") {
  test::Simulation sim;
  std::vector<int> order;
  auto sleeper = [&](std::chrono::milliseconds d, int id) -> asio::awaitable<int> {
    co_await sim.clock.sleep_for(d);
    order.push_back(id);
    co_return id;
  };
  std::vector<asio::awaitable<int>> tasks;
  tasks.push_back(sleeper(5s, 1));
  tasks.push_back(sleeper(1s, 2));
  tasks.push_back(sleeper(3s, 3));
  const auto started = std::chrono::steady_clock::now();
  sim.run(when_all(std::move(tasks)));
  CHECK(order == std::vector<int>{2, 3, 1});
  CHECK(sim.clock.elapsed() == 5s);
  CHECK(std::chrono::steady_clock::now() - started < 1s);
}
