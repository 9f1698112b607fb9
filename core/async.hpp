#pragma once
// Fan-out on the one io_context: run several coroutines concurrently and wait
// for all of them (Boost 1.74 has no parallel_group).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <vector>

namespace lbctl {

// Runs every task concurrently; returns their results in the order given.
// An exception in a task is rethrown after all have finished.
template <class T>
boost::asio::awaitable<std::vector<T>> when_all(std::vector<boost::asio::awaitable<T>> tasks) {
  namespace asio = boost::asio;
  std::vector<std::optional<T>> slots(tasks.size());
  std::size_t remaining = tasks.size();
  std::exception_ptr first_error;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    asio::co_spawn(
        executor,
        [&slots, i, task = std::move(tasks[i])]() mutable -> asio::awaitable<void> {
          slots[i].emplace(co_await std::move(task));
        },
        [&](std::exception_ptr error) {
          if (error && !first_error) first_error = error;
          // Setting the expiry (rather than cancel) also wakes a wait that has
          // not started yet.
          if (--remaining == 0) all_done.expires_at(asio::steady_timer::time_point::min());
        });
  }
  while (remaining > 0) {
    boost::system::error_code ec;
    co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (first_error) std::rethrow_exception(first_error);
  std::vector<T> results;
  results.reserve(slots.size());
  for (auto& slot : slots) results.push_back(std::move(*slot));
  co_return results;
}

}  // namespace lbctl
