#include "pools/port_picker.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lbctl::pools {

Result<std::vector<std::uint16_t>> pick_ports(PortRange range, std::size_t count, const std::set<std::uint16_t>& taken,
                                              const std::function<bool(std::uint16_t)>& usable) {
  std::vector<std::uint16_t> ports;
  for (unsigned port = range.min; port <= range.max && ports.size() < count; ++port) {
    const auto candidate = static_cast<std::uint16_t>(port);
    if (port == 0 || taken.contains(candidate) || !usable(candidate)) continue;
    ports.push_back(candidate);
  }
  if (ports.size() < count) {
    return fail(ErrorKind::conflict, fmt::format("ports {}-{} have {} free, {} needed (others are recorded by servers "
                                                 "or bound)",
                                                 range.min, range.max, ports.size(), count));
  }
  return ports;
}

bool can_bind(const std::string& host, std::uint16_t port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return false;
  }
  const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // No SO_REUSEADDR: a port with connections still in TIME_WAIT counts as
  // busy, which only makes the choice more careful.
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0;
  ::close(fd);
  return ok;
}

}  // namespace lbctl::pools
