#include <arpa/inet.h>
#include "tests/support/catch.hpp"
#include <csignal>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pools/tcp_probe.hpp"

#include "pools/port_picker.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using Ports = std::vector<std::uint16_t>;

namespace {

bool any_port(std::uint16_t) { return true; }

}  // namespace

TEST_CASE("ports are picked lowest first within the range", "[pools][ports]") {
  auto ports = pick_ports(PortRange{18300, 18399}, 3, {}, any_port);
  REQUIRE(ports.has_value());
  CHECK(*ports == Ports{18300, 18301, 18302});
}

TEST_CASE("ports recorded by other servers are skipped", "[pools][ports]") {
  auto ports = pick_ports(PortRange{18300, 18399}, 2, {18300, 18302}, any_port);
  REQUIRE(ports.has_value());
  CHECK(*ports == Ports{18301, 18303});
}

TEST_CASE("ports that cannot be bound are skipped", "[pools][ports]") {
  auto ports = pick_ports(PortRange{18300, 18399}, 2, {}, [](std::uint16_t p) { return p % 2 == 1; });
  REQUIRE(ports.has_value());
  CHECK(*ports == Ports{18301, 18303});
}

TEST_CASE("a range too small is a conflict saying how many ports were free", "[pools][ports]") {
  auto ports = pick_ports(PortRange{18300, 18302}, 3, {18301}, any_port);
  REQUIRE_FALSE(ports.has_value());
  CHECK(ports.error().kind == ErrorKind::conflict);
  CHECK(ports.error().message.find("ports 18300-18302 have 2 free, 3 needed") != std::string::npos);
}

TEST_CASE("a one-port range and the top of the port space work", "[pools][ports]") {
  CHECK(*pick_ports(PortRange{18300, 18300}, 1, {}, any_port) == Ports{18300});
  CHECK(*pick_ports(PortRange{65534, 65535}, 2, {}, any_port) == Ports{65534, 65535});
  CHECK(pick_ports(PortRange{18300, 18399}, 0, {}, any_port)->empty());
}

TEST_CASE("can_bind refuses a host that is not an IP literal", "[pools][ports]") {
  CHECK_FALSE(can_bind("localhost", 18300));
}

TEST_CASE("a listener is ours only when our process (or its group) holds the socket", "[pools][ports]") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const auto port = ntohs(address.sin_port);
  CHECK(lbctl::pools::listener_is_ours(::getpid(), port));
  // Another process (not a group leader, not holding the socket) is not it.
  pid_t other = 0;
  char sleep_arg0[] = "sleep";
  char sleep_arg1[] = "5";
  char* argv[] = {sleep_arg0, sleep_arg1, nullptr};
  REQUIRE(::posix_spawnp(&other, "sleep", nullptr, nullptr, argv, environ) == 0);
  CHECK_FALSE(lbctl::pools::listener_is_ours(other, port));
  ::kill(other, SIGKILL);
  ::waitpid(other, nullptr, 0);
  ::close(fd);
  CHECK_FALSE(lbctl::pools::listener_is_ours(::getpid(), port));
}
