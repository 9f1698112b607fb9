#pragma once
// A server as lbctl knows it: a name in a backend and the address HAProxy
// sends traffic to.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lbctl::pools {

struct Server {
  std::string name;
  std::string address;  // HOST:PORT

  bool operator==(const Server&) const = default;
};

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// Splits "HOST:PORT" ("[v6]:PORT" too); nullopt unless HOST is made of
// [A-Za-z0-9.-] (or hex digits and ':' inside brackets) and PORT is 1-65535.
// The same check keeps an address from carrying a second runtime API command.
std::optional<HostPort> parse_address(std::string_view address);

}  // namespace lbctl::pools
