#pragma once
// "HOST:PORT" as a health check needs it. Accepts exactly what
// pools::parse_address accepts (health/ may not include pools/).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lbctl::health {

struct Endpoint {
  std::string host;  // "[v6]" keeps its brackets, ready for a URL
  std::uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
};

// nullopt unless HOST is made of [A-Za-z0-9.-] (or hex digits, ':' and '.'
// inside brackets) and PORT is 1-65535.
std::optional<Endpoint> split_host_port(std::string_view address);

}  // namespace lbctl::health
