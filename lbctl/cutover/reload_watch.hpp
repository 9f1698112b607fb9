#pragma once
// Which LBs were reloaded or restarted since a mark. Each LB notes the
// process that answers its reads (pools::LoadBalancer::reloads_seen); a step
// whose LB changed process meanwhile may have lost what it did there, so the
// controller ensures it again and runs the step again (drive.cpp).

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

class ReloadWatch {
 public:
  explicit ReloadWatch(pools::Fleet& fleet) : m_fleet(fleet) {}

  // Remembers each LB's process; interrupted() turns false.
  void mark();
  // The LBs whose process changed since the mark, as their last reads saw.
  std::vector<std::string> since_mark() const;
  // Asks every LB which process answers now: the LBs changed since the mark.
  boost::asio::awaitable<Result<std::vector<std::string>>> look();
  // After a read of the fleet: fails (cancelled), and interrupted() turns
  // true, when an LB changed since the mark.
  Result<void> notice();
  // look(), then notice().
  boost::asio::awaitable<Result<void>> look_and_notice();
  // A read failed the step because an LB changed process (notice()).
  bool interrupted() const { return m_interrupted; }

 private:
  pools::Fleet& m_fleet;
  std::vector<std::uint64_t> m_mark;
  bool m_interrupted = false;
};

}  // namespace lbctl
