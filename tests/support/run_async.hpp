#pragma once
// Runs a coroutine on a real io_context to its end (integration tests).

#include "core/run.hpp"

namespace lbctl::test {

template <class T>
T run_async(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  return run_to_end(io, std::move(task));
}

inline void run_async(boost::asio::io_context& io, boost::asio::awaitable<void> task) {
  run_to_end(io, std::move(task));
}

}  // namespace lbctl::test
