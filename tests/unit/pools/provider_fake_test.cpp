#include "tests/support/catch.hpp"

#include "tests/support/fake_haproxy.hpp"
#include "tests/support/fake_provider.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST_CASE("the fake provider records calls in order and clones idempotently", "[pools][fake_provider]") {
  test::Simulation sim;
  test::FakeProvider provider;
  provider.add_server("old-1", "127.0.0.1:9001");
  auto first = sim.run(provider.clone(Strings{"v2-1", "v2-2"}, pools::Server{"old-1", "127.0.0.1:9001"}));
  REQUIRE(first.has_value());
  CHECK(*first == std::vector<pools::Server>{{"v2-1", "127.0.0.1:9100"}, {"v2-2", "127.0.0.1:9101"}});
  auto again = sim.run(provider.clone(Strings{"v2-2", "v2-3"}, std::nullopt));
  REQUIRE(again.has_value());
  CHECK(*again == std::vector<pools::Server>{{"v2-2", "127.0.0.1:9101"}, {"v2-3", "127.0.0.1:9102"}});
  REQUIRE(sim.run(provider.freeze_scaling()).has_value());
  REQUIRE(sim.run(provider.remove_health_file({"old-1", "127.0.0.1:9001"})).has_value());
  REQUIRE(sim.run(provider.terminate({"old-1", "127.0.0.1:9001"})).has_value());
  REQUIRE(sim.run(provider.unfreeze_scaling()).has_value());
  CHECK(provider.calls() == Strings{"clone v2-1,v2-2", "clone v2-2,v2-3", "freeze_scaling", "remove_health_file old-1",
                                    "terminate old-1", "unfreeze_scaling"});
  CHECK(provider.running_servers() == Strings{"v2-1", "v2-2", "v2-3"});
  CHECK_FALSE(provider.has_health_file("old-1"));
  CHECK_FALSE(provider.frozen());
}

TEST_CASE("the fake provider fails as scripted, per operation and server", "[pools][fake_provider]") {
  test::Simulation sim;
  test::FakeProvider provider;
  provider.fail_next("clone", "v2-2", Error{ErrorKind::timeout, "v2-2 never came up"});
  auto cloned = sim.run(provider.clone(Strings{"v2-1", "v2-2"}, std::nullopt));
  REQUIRE_FALSE(cloned.has_value());
  CHECK(cloned.error().message == "v2-2 never came up");
  CHECK(provider.running("v2-1"));  // made before the failure
  CHECK_FALSE(provider.running("v2-2"));
  CHECK(sim.run(provider.clone(Strings{"v2-1", "v2-2"}, std::nullopt)).has_value());  // once only

  provider.fail_next("terminate", "", Error{ErrorKind::refused, "no"}, test::FakeProvider::k_always);
  CHECK_FALSE(sim.run(provider.terminate({"v2-1", ""})).has_value());
  CHECK_FALSE(sim.run(provider.terminate({"v2-2", ""})).has_value());
  CHECK(provider.running("v2-1"));
}

TEST_CASE("the fake provider tells a fake HAProxy when a health file goes and comes back", "[pools][fake_provider]") {
  test::Simulation sim;
  test::FakeHaproxy haproxy("app", sim.clock);
  haproxy.add_config_server("old-1", "127.0.0.1:9001", 100, 2, 2);
  test::FakeProvider provider(&sim.clock);
  provider.add_server("old-1", "127.0.0.1:9001");
  provider.on_health_file([&](const std::string& server, bool present) {
    haproxy.set_app(server, present ? test::AppHealth::healthy : test::AppHealth::not_found);
  });
  REQUIRE(sim.run(provider.remove_health_file({"old-1", "127.0.0.1:9001"})).has_value());
  sim.clock.advance_by(1s);
  CHECK(haproxy.status("old-1") == "NOLB");
  REQUIRE(sim.run(provider.restore_health_file({"old-1", "127.0.0.1:9001"})).has_value());
  sim.clock.advance_by(1s);
  CHECK(haproxy.status("old-1") == "UP");
}

TEST_CASE("the fake provider's delays take simulated time", "[pools][fake_provider]") {
  test::Simulation sim;
  test::FakeProvider provider(&sim.clock);
  provider.set_delay("clone", 3s);
  REQUIRE(sim.run(provider.clone(Strings{"v2-1"}, std::nullopt)).has_value());
  CHECK(sim.clock.elapsed() == 3s);
}
