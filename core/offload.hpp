#pragma once
// Work that blocks (libpq: a query, a connect to a database that does not
// answer, a long migration) runs on a thread of its own, so the event loop
// goes on meanwhile: LB polls, the drain display, timers, the lock heartbeat.
//
// A Lane is one such thread with its own io_context: what is posted to it runs
// in order, one thing at a time, so calls on one database connection never
// overlap. Without a lane (unit tests, on a manual clock) the same calls run
// inline, on the caller's thread.
//
// The calls themselves are in core/off_loop.hpp.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <optional>

namespace lbctl {

class Lane {
 public:
  Lane();
  // Runs what was posted already, then joins the thread.
  ~Lane();
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  boost::asio::any_io_executor executor() const;
  // True once everything posted so far has run, within `timeout`; false
  // while a call still hangs (a database that does not answer).
  bool settles(std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Where blocking work goes: `loop` is the caller's event loop (completions
// come back there), `lane` the thread. Empty: inline.
struct Offload {
  std::optional<boost::asio::any_io_executor> loop;
  std::optional<boost::asio::any_io_executor> lane;

  bool inline_() const { return !loop || !lane; }
};

}  // namespace lbctl
