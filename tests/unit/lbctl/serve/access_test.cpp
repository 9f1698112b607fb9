// serve's access rules, pure: the Host names answered, the token throttle,
// and what happens to a connection past a cap.

#include "tests/support/catch.hpp"

#include "lbctl/serve/access.hpp"

using namespace lbctl::serve;
using namespace std::chrono_literals;

TEST_CASE("a loopback serve answers to loopback names and addresses and the names given", "[lbctl][serve][security]") {
  const HostAllowList hosts(true, {"Lbctl.Internal"});
  for (const char* ok : {"", "localhost", "localhost:8480", "127.0.0.1", "127.0.0.1:8480", "127.1.2.3:80", "[::1]:8480",
                         "[::1]", "LOCALHOST:1", "lbctl.internal:8480"}) {
    INFO(ok);
    CHECK(hosts.allows(ok));
  }
  for (const char* refused : {"rebind.example.com", "rebind.example.com:8480", "10.0.0.5:8480", "[2001:db8::1]:8480",
                              "localhost.evil.com", "127.0.0.1.nip.io:8480", "lbctl.internal.evil.com"}) {
    INFO(refused);
    CHECK_FALSE(hosts.allows(refused));
  }
  CHECK(hosts.describe() == "localhost, 127.0.0.0/8, [::1] and lbctl.internal");
}

TEST_CASE("a serve on the network answers to IP addresses and the names given, not to localhost",
          "[lbctl][serve][security]") {
  const HostAllowList hosts(false, {"lbctl.example.com"});
  CHECK(hosts.allows("10.0.0.5:8480"));
  CHECK(hosts.allows("[2001:db8::1]:8480"));
  CHECK(hosts.allows("lbctl.example.com"));
  CHECK_FALSE(hosts.allows("localhost:8480"));
  CHECK_FALSE(hosts.allows("rebind.example.com"));
}

TEST_CASE("wrong tokens cost nothing three times, then the wait doubles up to a minute", "[lbctl][serve][security]") {
  TokenThrottle throttle;
  const SteadyTime t0{};
  for (int i = 0; i < TokenThrottle::k_free_failures; ++i) {
    CHECK_FALSE(throttle.wait("a", t0));
    throttle.failed("a", t0);
  }
  CHECK_FALSE(throttle.wait("a", t0));
  throttle.failed("a", t0);
  CHECK(throttle.wait("a", t0) == 1s);
  CHECK_FALSE(throttle.wait("b", t0));
  throttle.failed("a", t0 + 1s);
  CHECK(throttle.wait("a", t0 + 1s) == 2s);
  for (int i = 0; i < 20; ++i) throttle.failed("a", t0 + 2s);
  CHECK(throttle.wait("a", t0 + 2s) == TokenThrottle::k_max_wait);
  throttle.succeeded("a");
  CHECK_FALSE(throttle.wait("a", t0 + 2s));
}

TEST_CASE("the token throttle forgets quiet addresses and keeps a bounded number", "[lbctl][serve][security]") {
  TokenThrottle throttle;
  const SteadyTime t0{};
  for (std::size_t i = 0; i < TokenThrottle::k_max_clients + 100; ++i) throttle.failed("10.0." + std::to_string(i), t0);
  CHECK(throttle.clients() == TokenThrottle::k_max_clients);
  // Past k_forget, an address starts again from nothing.
  for (int i = 0; i < 5; ++i) throttle.failed("x", t0);
  CHECK(throttle.wait("x", t0));
  throttle.failed("x", t0 + TokenThrottle::k_forget + 1s);
  CHECK_FALSE(throttle.wait("x", t0 + TokenThrottle::k_forget + 1s));
}

TEST_CASE("past the per-client cap, a client's oldest waiting connection makes room", "[lbctl][serve][security]") {
  ConnectionTable table({/*connections=*/10, /*per_client=*/3, /*streams=*/4, /*streams_per_client=*/2});
  for (std::uint64_t id = 1; id <= 3; ++id) CHECK(table.admit("a", id).admitted);
  table.waiting(1, false);  // answering a request: never taken over
  const auto fourth = table.admit("a", 4);
  CHECK(fourth.admitted);
  REQUIRE(fourth.evict);
  CHECK(*fourth.evict == 2);
  CHECK_FALSE(table.holds(2));
  CHECK(table.connections() == 3);
  // Another address has room of its own.
  CHECK_FALSE(table.admit("b", 5).evict);
  // Every connection of "a" busy: the next is refused.
  table.waiting(3, false);
  table.waiting(4, false);
  const auto refused = table.admit("a", 6);
  CHECK_FALSE(refused.admitted);
  CHECK_FALSE(refused.evict);
  CHECK(table.connections() == 4);
}

TEST_CASE("past the overall cap, anyone's oldest waiting connection makes room, else refused", "[lbctl][serve][security]") {
  ConnectionTable table({/*connections=*/4, /*per_client=*/4, /*streams=*/2, /*streams_per_client=*/2});
  CHECK(table.admit("a", 1).admitted);
  CHECK(table.admit("b", 2).admitted);
  CHECK(table.admit("c", 3).admitted);
  CHECK(table.admit("d", 4).admitted);
  table.waiting(1, false);
  const auto fifth = table.admit("e", 5);
  CHECK(fifth.admitted);
  CHECK(fifth.evict == std::optional<std::uint64_t>(2));
  for (std::uint64_t id : {3, 4, 5}) table.waiting(id, false);
  CHECK_FALSE(table.admit("f", 6).admitted);
}

TEST_CASE("streams are capped overall and per client, and never taken over", "[lbctl][serve][security]") {
  ConnectionTable table({/*connections=*/10, /*per_client=*/10, /*streams=*/3, /*streams_per_client=*/2});
  for (std::uint64_t id = 1; id <= 5; ++id) table.admit(id <= 3 ? "a" : "b", id);
  CHECK(table.start_stream(1));
  CHECK(table.start_stream(2));
  CHECK_FALSE(table.start_stream(3));  // a's two
  CHECK(table.start_stream(4));
  CHECK_FALSE(table.start_stream(5));  // three in all
  CHECK(table.streams() == 3);
  table.remove(1);
  CHECK(table.streams() == 2);
  CHECK(table.start_stream(3));
  // A stream is not waiting: a new connection at the cap finds no room among them.
  ConnectionTable full({/*connections=*/2, /*per_client=*/2, /*streams=*/2, /*streams_per_client=*/2});
  full.admit("a", 1);
  full.admit("a", 2);
  full.start_stream(1);
  full.start_stream(2);
  CHECK_FALSE(full.admit("a", 3).admitted);
}
