#pragma once
// Choosing ports for local servers: the lowest ports of the configured range
// that no other server has recorded and nobody is bound to right now.

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace lbctl::pools {

struct PortRange {
  std::uint16_t min = 0;
  std::uint16_t max = 0;  // inclusive
};

// `count` ports of `range`, ascending, none in `taken` and each accepted by
// `usable`. Fails (conflict) when the range holds fewer, saying how many it
// found.
Result<std::vector<std::uint16_t>> pick_ports(PortRange range, std::size_t count, const std::set<std::uint16_t>& taken,
                                              const std::function<bool(std::uint16_t)>& usable);

// True when a TCP socket can bind `host`:`port` now (an IPv4 or IPv6 literal).
bool can_bind(const std::string& host, std::uint16_t port);

}  // namespace lbctl::pools
