#pragma once
// Whether something accepts TCP connections at an address: how the local
// provider knows a server it started is up.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

namespace lbctl::pools {

// True when a connection to host:port (an IP literal) succeeds within
// `timeout`; the connection is closed at once. False on refusal, timeout or
// a host that is not an IP literal.
boost::asio::awaitable<bool> accepts_connections(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace lbctl::pools
