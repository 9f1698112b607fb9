#pragma once
// Running work off the event loop on a Lane (core/offload.hpp), or inline
// when there is none.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>

#include "core/offload.hpp"

namespace lbctl {

namespace detail {

// `work` as a coroutine to spawn on the lane. Made outside any coroutine
// body: GCC 12 mishandles a lambda's init-captures inside one.
template <class T>
std::function<boost::asio::awaitable<T>()> as_task(std::function<T()> work) {
  return [work = std::move(work)]() -> boost::asio::awaitable<T> { co_return work(); };
}

}  // namespace detail

// Runs `work` on the lane and resumes the caller on its own executor with the
// result; inline without a lane. T must be default-constructible (Boost 1.74).
template <class T>
boost::asio::awaitable<T> off_loop(const Offload& offload, std::function<T()> work) {
  if (offload.inline_()) co_return work();
  co_return co_await boost::asio::co_spawn(*offload.lane, detail::as_task<T>(std::move(work)),
                                           boost::asio::use_awaitable);
}

// Runs `work` on the lane without waiting; `done` gets the result on the
// loop (inline without a lane: both at once).
template <class T>
void off_loop_then(const Offload& offload, std::function<T()> work, std::function<void(T)> done) {
  if (offload.inline_()) {
    done(work());
    return;
  }
  boost::asio::co_spawn(
      *offload.lane, detail::as_task<T>(std::move(work)),
      boost::asio::bind_executor(*offload.loop, [done = std::move(done)](std::exception_ptr error, T result) {
        if (error) std::rethrow_exception(error);
        done(std::move(result));
      }));
}

// An awaitable (one that blocks inside, as PgMigrator's do) run to its end on
// the lane; its own timers run there too.
template <class T>
boost::asio::awaitable<T> on_lane(const Offload& offload, boost::asio::awaitable<T> task) {
  if (offload.inline_()) co_return co_await std::move(task);
  co_return co_await boost::asio::co_spawn(*offload.lane, std::move(task), boost::asio::use_awaitable);
}

}  // namespace lbctl
