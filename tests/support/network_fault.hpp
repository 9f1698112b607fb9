#pragma once
// Faults of the network between two processes on this machine: a TCP relay
// (socat) that stands for the path between them, and a partition of it by
// iptables (every packet dropped both ways: no reset ever comes, as with a
// dead switch or a frozen VM). Needs root; the rules carry a comment naming
// this process and go when the object does.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/child_process.hpp"

namespace lbctl::test {

// host():port() -> 127.0.0.1:target, one socat child per connection. The
// relay listens on a loopback address of its own (127.77.x.y), so a
// partition of it touches no other connection (whatever ports they use).
class TcpRelay {
 public:
  explicit TcpRelay(std::uint16_t target, const std::filesystem::path& log = {});
  const std::string& host() const { return m_host; }
  std::uint16_t port() const { return m_port; }
  // The relay and every connection it carries die: the target sees them
  // close (Postgres frees a lock held over one); the other side hears of it
  // only if no partition drops the reset.
  void kill();
  // After kill(): the relay again, on the same address and port (what was
  // cut off comes back to the same place).
  void restart();

 private:
  std::string m_host;
  std::uint16_t m_port;
  std::uint16_t m_target;
  std::filesystem::path m_log;
  std::unique_ptr<ChildProcess> m_process;
};

// Drops every TCP packet to or from host:port (loopback) until lifted.
class Partition {
 public:
  explicit Partition(const TcpRelay& relay) : Partition(relay.host(), relay.port()) {}
  Partition(std::string host, std::uint16_t port);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;
  void lift();

 private:
  std::string m_host;
  std::uint16_t m_port;
  bool m_on = false;
};

}  // namespace lbctl::test
