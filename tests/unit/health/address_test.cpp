#include "tests/support/catch.hpp"

#include "health/address.hpp"

using namespace lbctl::health;

TEST_CASE("a target address splits into host and port", "[health][address]") {
  CHECK(split_host_port("127.0.0.1:8080") == Endpoint{"127.0.0.1", 8080});
  CHECK(split_host_port("app-1.internal:80") == Endpoint{"app-1.internal", 80});
  CHECK(split_host_port("[::1]:9000") == Endpoint{"[::1]", 9000});
}

TEST_CASE("a target address without a valid host and port is refused", "[health][address]") {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "host:0", "host:65536", "host:8o", "a b:80",
                          "h;x:80", "[zz]:80", "-oProxyCommand:22", "-v:80"}) {
    INFO(bad);
    CHECK_FALSE(split_host_port(bad).has_value());
  }
}
