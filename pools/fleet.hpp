#pragma once
// Every HAProxy of the fleet, changed and read together: an operation runs
// on each LB concurrently and its outcome is reported per LB, so an LB that
// does not answer is named.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/async.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

// A wait on every LB at once (see Fleet::wait_until).
struct FleetWait {
  std::vector<std::vector<std::string>> names_per_lb;  // in fleet order
  StatPredicate done;
  std::string what;  // "UP on every load balancer", for the timeout's message
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds poll{0};
  // Sees every read of the fleet first; a failure stops the wait with it
  // (an abort asked for, an LB that was reloaded). May be empty.
  std::function<Result<void>(const std::vector<std::vector<ServerStat>>&)> on_read;
};

template <class T>
struct PerLb {
  std::string lb;
  Result<T> result;
};

class Fleet {
 public:
  explicit Fleet(std::vector<std::unique_ptr<LoadBalancer>> lbs) : m_lbs(std::move(lbs)) {}

  std::size_t size() const { return m_lbs.size(); }
  // The same gate on every LB (LoadBalancer::set_write_gate).
  void set_write_gate(const LoadBalancer::WriteGate& gate) {
    for (auto& lb : m_lbs) lb->set_write_gate(gate);
  }
  LoadBalancer& at(std::size_t i) { return *m_lbs.at(i); }
  // Every LB starts opening its connections now (an ssh handshake overlaps
  // what comes before the first read).
  void connect_early() {
    for (auto& lb : m_lbs) lb->connect_early();
  }
  const std::vector<std::unique_ptr<LoadBalancer>>& lbs() const { return m_lbs; }

  // Runs `op` on every LB at once; one result per LB, in fleet order.
  template <class T>
  boost::asio::awaitable<std::vector<PerLb<T>>> each(std::function<boost::asio::awaitable<Result<T>>(LoadBalancer&)> op) {
    std::vector<boost::asio::awaitable<PerLb<T>>> tasks;
    tasks.reserve(m_lbs.size());
    for (auto& lb : m_lbs) tasks.push_back(run_one<T>(*lb, op));
    co_return co_await when_all(std::move(tasks));
  }

  // The same, failing when any LB failed: the error names every LB that did.
  template <class T>
  boost::asio::awaitable<Result<std::vector<T>>> all(std::function<boost::asio::awaitable<Result<T>>(LoadBalancer&)> op) {
    co_return collect(co_await each<T>(std::move(op)));
  }

  // Reads every LB's stats every `wait.poll` (or four times as long as the
  // last read took, when that is longer, up to 5 s and never past the
  // timeout: reading stays a fifth of the wait)
  // until each LB's named servers satisfy `wait.done`; `timeout` names each
  // LB and server that did not, with its status and check.
  boost::asio::awaitable<Result<void>> wait_until(FleetWait wait, Clock& clock);

  template <class T>
  static Result<std::vector<T>> collect(std::vector<PerLb<T>> results) {
    std::vector<T> values;
    std::optional<Error> combined;
    for (auto& r : results) {
      if (r.result) {
        values.push_back(std::move(*r.result));
        continue;
      }
      if (!combined) combined = r.result.error();
      else combined->message += "; " + r.result.error().message;
    }
    if (combined) return std::unexpected(*combined);
    return values;
  }

 private:
  template <class T>
  static boost::asio::awaitable<PerLb<T>> run_one(LoadBalancer& lb,
                                                 std::function<boost::asio::awaitable<Result<T>>(LoadBalancer&)> op) {
    auto result = co_await op(lb);
    co_return PerLb<T>{lb.name(), std::move(result)};
  }

  std::vector<std::unique_ptr<LoadBalancer>> m_lbs;
};

}  // namespace lbctl::pools
