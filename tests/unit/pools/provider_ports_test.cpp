#include <catch2/catch.hpp>

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
