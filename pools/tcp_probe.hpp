#pragma once
// Whether something accepts TCP connections at an address: how the local
// provider knows a server it started is up.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace lbctl::pools {

// True when a connection to host:port (an IP literal) succeeds within
// `timeout`; the connection is closed at once. False on refusal, timeout or
// a host that is not an IP literal.
boost::asio::awaitable<bool> accepts_connections(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);

// True when a socket listening on TCP `port` belongs to process `pid` or to
// a process of its group (a wrapper's child): read from /proc/net/tcp{,6} and
// /proc/PID/fd. So the answer a probe got came from the server lbctl started,
// not from whoever took the port meanwhile. True when /proc cannot tell.
bool listener_is_ours(int pid, std::uint16_t port);

}  // namespace lbctl::pools
