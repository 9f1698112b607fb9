#pragma once
// Proving servers healthy: check every target concurrently, a round every
// interval, until each has passed `rise` rounds in a row, the deadline passes,
// or the caller asks to stop. The controller's "verify" step and `lbctl check`.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "health/policy.hpp"
#include "health/probe.hpp"

namespace lbctl::health {

struct Target {
  std::string name;
  std::string address;  // HOST:PORT
};

struct Verdict {
  std::string name;
  std::string address;
  bool healthy = false;
  int passes = 0;      // consecutive passing rounds at the end
  std::string reason;  // "healthy", "stopped", or the last failure's reason
  std::chrono::milliseconds elapsed{0};  // from the start until this target's verdict

  bool operator==(const Verdict&) const = default;
};

// Checks every target at once; returns one verdict per target, in the order
// given. A round checks `policy.path` and, when set, `policy.database_path`
// (both at once; both must pass). Rounds start every `interval` (plus jitter)
// from the first, which starts at once. A target stops being checked once
// healthy; the rest end unhealthy when the next round would start at or after
// the deadline (reason: their last failure's reason, or "deadline reached
// with 1 of 2 passes; last failure: ..." when the last rounds passed), or
// with "stopped" once `should_stop` (asked before every round) returns true.
// A target whose address does not parse is unhealthy at once. Waits only
// through `clock`; never throws for a server's trouble.
//
// GCC 12: do not write a capturing lambda inside the co_await expression
// (`co_await verify(..., [x] {...})`): it is destroyed twice. Name the
// std::function in a statement before.
boost::asio::awaitable<std::vector<Verdict>> verify(std::vector<Target> targets, CheckPolicy policy,
                                                    HttpProber& prober, Clock& clock,
                                                    std::function<bool()> should_stop = {});

}  // namespace lbctl::health
