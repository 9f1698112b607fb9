#pragma once
// A new server that dies after attach: from attach until detach (the steps
// the step table marks `watches_new_pool`), every read of the fleet also asks
// whether a new server is DOWN on an LB, and one DOWN for longer than the
// patience fails the step (and so rolls back), naming it and where. A check
// that failed a few times (a flap, a slow restart) gets time to rise again.

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "pools/fleet.hpp"
#include "pools/server_options.hpp"
#include "pools/stats.hpp"

namespace lbctl {

class NewPoolLiveness {
 public:
  NewPoolLiveness(pools::Fleet& fleet, Clock& clock) : m_fleet(fleet), m_clock(clock) {}

  // How long a new server may stay DOWN on an LB: twice its checks' rise
  // and fall at `inter`, and 2 s more.
  static std::chrono::milliseconds patience(const pools::ServerOptions& options);
  // One read of every LB (stats[i] from LB i): fails (refused) when one of
  // `names` has been DOWN there for longer than `patience`.
  Result<void> check(const std::vector<std::string>& names, const std::vector<std::vector<pools::ServerStat>>& stats,
                     std::chrono::milliseconds patience);

 private:
  pools::Fleet& m_fleet;
  Clock& m_clock;
  std::map<std::pair<std::size_t, std::string>, Clock::TimePoint> m_down_since;  // (LB, server)
};

}  // namespace lbctl
