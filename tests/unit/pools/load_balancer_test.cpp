#include "tests/support/catch.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "pools/answer.hpp"
#include "pools/fleet.hpp"
#include "pools/load_balancer.hpp"
#include "tests/support/fake_haproxy.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

struct Rig {
  test::Simulation sim;
  std::shared_ptr<test::FakeHaproxy> haproxy = std::make_shared<test::FakeHaproxy>("app", sim.clock);
  LoadBalancer lb{"lb1", "app", haproxy, sim.clock};
  ServerOptions options = *parse_server_options("check inter 1s fall 2 rise 2", nullptr);

  Rig() {
    haproxy->add_config_server("old-1", "127.0.0.1:9001");
    haproxy->add_config_server("old-2", "127.0.0.1:9002");
  }
};

}  // namespace

TEST_CASE("a new server is added, checked in MAINT, then made ready, in the safe order", "[pools][lb]") {
  Rig rig;
  const std::vector<NewServer> servers{{"v2-1", "127.0.0.1:9101", 1001}};
  REQUIRE(rig.sim.run(rig.lb.ensure_added(servers, rig.options)).has_value());
  CHECK(rig.haproxy->status("v2-1") == "MAINT");
  REQUIRE(rig.sim.run(rig.lb.ensure_health_enabled({"v2-1"})).has_value());
  auto passed = rig.sim.run(rig.lb.wait_until({"v2-1"}, [](const ServerStat& s) { return s.check_passed(); },
                                              "L7OK", 10s, 100ms));
  REQUIRE(passed.has_value());
  CHECK(rig.haproxy->status("v2-1") == "MAINT");  // checked, still no traffic
  REQUIRE(rig.sim.run(rig.lb.ensure_state({"v2-1"}, AdminTarget::ready)).has_value());
  auto up = rig.sim.run(rig.lb.wait_until({"v2-1"}, [](const ServerStat& s) { return s.is_fully_up(); }, "UP", 10s, 100ms));
  REQUIRE(up.has_value());
  CHECK(rig.haproxy->mutations() == Strings{"add server app/v2-1 127.0.0.1:9101 id 1001 check inter 1s fall 2 rise 2",
                                            "enable health app/v2-1", "set server app/v2-1 state ready"});
}

TEST_CASE("on HAProxy 3.0 a new server gets its cookie on add server and in the persisted line", "[pools][lb][cookie]") {
  Rig rig;
  rig.haproxy->set_version("3.0.11-1+deb13u4");
  const std::vector<NewServer> servers{{"v2-1", "127.0.0.1:9101", 1001, "v2-1"}, {"v2-2", "127.0.0.1:9102", 1002, "c.v2-2"}};
  REQUIRE(rig.sim.run(rig.lb.ensure_added(servers, rig.options)).has_value());
  CHECK(rig.haproxy->mutations() ==
        Strings{"add server app/v2-1 127.0.0.1:9101 id 1001 check inter 1s fall 2 rise 2 cookie v2-1",
                "add server app/v2-2 127.0.0.1:9102 id 1002 check inter 1s fall 2 rise 2 cookie c.v2-2"});
  CHECK(rig.haproxy->server("v2-1")->cookie == "v2-1");
  CHECK(rig.haproxy->server("v2-2")->cookie == "c.v2-2");
  CHECK(rig.lb.version().text == "3.0.11-1+deb13u4");
  auto live = rig.sim.run(rig.lb.snapshot());
  REQUIRE(live.has_value());
  bool found = false;
  for (const auto& line : rig.lb.desired_lines(*live)) {
    if (line.name != "v2-2") continue;
    found = true;
    CHECK(line.options == "check inter 1s fall 2 rise 2 cookie c.v2-2");
  }
  CHECK(found);
}

TEST_CASE("a cookie for an LB before HAProxy 3.0 is refused naming its version, and nothing is sent",
          "[pools][lb][cookie]") {
  Rig rig;  // the fake answers as 2.6.12
  auto added = rig.sim.run(rig.lb.ensure_added({{"v2-1", "127.0.0.1:9101", 1001, "v2-1"}}, rig.options));
  REQUIRE_FALSE(added.has_value());
  CHECK(added.error().kind == ErrorKind::invalid);
  CHECK_THAT(added.error().message, Catch::Contains("lb1 runs HAProxy 2.6.12, which refuses `cookie` on a server added "
                                                    "at runtime (HAProxy 3.0 and later take it)"));
  CHECK(rig.haproxy->mutations().empty());
}

TEST_CASE("a cookie that is not one plain word never reaches HAProxy", "[pools][lb][cookie]") {
  Rig rig;
  rig.haproxy->set_version("3.0.11");
  for (const std::string& cookie : Strings{"a b", "a;shutdown", "x\nshow info", std::string(65, 'c'), "é"}) {
    INFO(cookie);
    auto added = rig.sim.run(rig.lb.ensure_added({{"v2-1", "127.0.0.1:9101", 1001, cookie}}, rig.options));
    REQUIRE_FALSE(added.has_value());
    CHECK(added.error().kind == ErrorKind::invalid);
  }
  CHECK(rig.haproxy->mutations().empty());
}

TEST_CASE("abilities read the LB's version and its backend's persistence cookie", "[pools][lb][cookie]") {
  Rig rig;
  rig.haproxy->set_version("3.0.11");
  rig.haproxy->set_cookie_name("SRV");
  auto abilities = rig.sim.run(rig.lb.abilities());
  REQUIRE(abilities.has_value());
  CHECK(abilities->version.text == "3.0.11");
  CHECK(abilities->version.at_least(3, 0));
  CHECK(abilities->cookie_name == "SRV");
  CHECK(abilities->algo == "roundrobin");
}

TEST_CASE("every ensure run twice sends nothing the second time", "[pools][lb]") {
  Rig rig;
  const std::vector<NewServer> servers{{"v2-1", "127.0.0.1:9101", 1001}, {"v2-2", "127.0.0.1:9102", 1002}};
  const Strings names{"v2-1", "v2-2"};
  auto twice = [&](auto make) {
    auto first = rig.sim.run(make());
    REQUIRE(first.has_value());
    CHECK_FALSE(first->commands.empty());
    auto second = rig.sim.run(make());
    REQUIRE(second.has_value());
    CHECK(second->commands.empty());
  };
  twice([&] { return rig.lb.ensure_added(servers, rig.options); });
  twice([&] { return rig.lb.ensure_health_enabled(names); });
  twice([&] { return rig.lb.ensure_state(names, AdminTarget::ready); });
  twice([&] { return rig.lb.ensure_weight({{"v2-1", 5}, {"v2-2", 5}}); });
  twice([&] { return rig.lb.ensure_state({"old-1"}, AdminTarget::drain); });
  rig.haproxy->set_sessions("old-2", 3);
  twice([&] { return rig.lb.shutdown_sessions({"old-2"}); });
  twice([&] { return rig.lb.ensure_deleted({"old-1", "old-2"}, 5s, 100ms); });
  CHECK(rig.haproxy->server_names() == Strings{"v2-1", "v2-2"});
}

TEST_CASE("servers with their own admin targets are set in one batch on one connection, once", "[pools][lb]") {
  Rig rig;
  rig.haproxy->add_config_server("old-3", "127.0.0.1:9003");
  const std::vector<std::pair<std::string, AdminTarget>> targets{
      {"old-1", AdminTarget::maint}, {"old-2", AdminTarget::ready}, {"old-3", AdminTarget::drain}};
  const auto before = rig.haproxy->connections();
  auto first = rig.sim.run(rig.lb.ensure_states(targets));
  REQUIRE(first.has_value());
  CHECK(first->commands == Strings{"set server app/old-1 state maint", "set server app/old-3 state drain"});
  CHECK(rig.haproxy->connections() - before == 2);  // one read, one batch
  CHECK(rig.haproxy->status("old-1") == "MAINT");
  CHECK(rig.haproxy->status("old-3") == "DRAIN");
  auto second = rig.sim.run(rig.lb.ensure_states(targets));
  REQUIRE(second.has_value());
  CHECK(second->commands.empty());
}

TEST_CASE("a server already there with another address is a conflict and nothing is sent", "[pools][lb]") {
  Rig rig;
  auto result = rig.sim.run(rig.lb.ensure_added({{"old-1", "127.0.0.1:7777", 1001}}, rig.options));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::conflict);
  CHECK(result.error().message.find("old-1") != std::string::npos);
  CHECK(rig.haproxy->mutations().empty());
}

TEST_CASE("an id already taken by another server is a conflict", "[pools][lb]") {
  Rig rig;
  auto result = rig.sim.run(rig.lb.ensure_added({{"v2-1", "127.0.0.1:9101", 2}}, rig.options));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message.find("id 2 is taken by server app/old-2") != std::string::npos);
  CHECK(rig.haproxy->mutations().empty());
}

TEST_CASE("hostile names and addresses are refused before anything is sent", "[pools][lb]") {
  Rig rig;
  for (const char* name : {"v2;del server app/old-1", "v2 1", "v2\n1", "v2\\1", ""}) {
    INFO(name);
    auto added = rig.sim.run(rig.lb.ensure_added({{name, "127.0.0.1:9101", 1001}}, rig.options));
    REQUIRE_FALSE(added.has_value());
    CHECK(added.error().kind == ErrorKind::invalid);
    auto state = rig.sim.run(rig.lb.ensure_state({name}, AdminTarget::maint));
    REQUIRE_FALSE(state.has_value());
    auto deleted = rig.sim.run(rig.lb.ensure_deleted({name}, 1s, 100ms));
    REQUIRE_FALSE(deleted.has_value());
  }
  auto bad_address = rig.sim.run(rig.lb.ensure_added({{"v2-1", "127.0.0.1:80;show info", 1001}}, rig.options));
  REQUIRE_FALSE(bad_address.has_value());
  LoadBalancer hostile_backend("lb1", "app;shutdown sessions server app/old-1", rig.haproxy, rig.sim.clock);
  REQUIRE_FALSE(rig.sim.run(hostile_backend.stats()).has_value());
  CHECK(rig.haproxy->log().empty());
  CHECK(rig.haproxy->connections() == 0);
}

TEST_CASE("a removed health file turns a server NOLB, restoring it turns it UP", "[pools][lb]") {
  Rig rig;
  rig.haproxy->set_app("old-1", test::AppHealth::not_found);
  auto nolb = rig.sim.run(rig.lb.wait_until({"old-1"}, [](const ServerStat& s) { return s.is_nolb(); }, "NOLB", 10s, 100ms));
  REQUIRE(nolb.has_value());
  rig.haproxy->set_app("old-1", test::AppHealth::healthy);
  auto up = rig.sim.run(rig.lb.wait_until({"old-1"}, [](const ServerStat& s) { return s.is_fully_up(); }, "UP", 10s, 100ms));
  REQUIRE(up.has_value());
}

TEST_CASE("del server is retried while sessions remain and done once they end", "[pools][lb]") {
  Rig rig;
  rig.haproxy->set_sessions("old-1", 2);
  bool sessions_ended = false;
  auto end_sessions = [&]() -> boost::asio::awaitable<Result<Applied>> {
    co_await rig.sim.clock.sleep_for(2500ms);
    rig.haproxy->set_sessions("old-1", 0);
    sessions_ended = true;
    co_return Applied{};
  };
  std::vector<boost::asio::awaitable<Result<Applied>>> both;
  both.push_back(rig.lb.ensure_deleted({"old-1"}, 30s, 1s));
  both.push_back(end_sessions());
  auto results = rig.sim.run(when_all(std::move(both)));
  REQUIRE(results[0].has_value());
  CHECK(sessions_ended);
  CHECK(rig.haproxy->server_names() == Strings{"old-2"});
  // Deleted on the first poll after the sessions ended.
  CHECK(rig.sim.clock.elapsed() == 3s);
  CHECK(rig.haproxy->mutations() == Strings{"set server app/old-1 state maint", "del server app/old-1",
                                            "del server app/old-1", "del server app/old-1", "del server app/old-1"});
}

TEST_CASE("del server gives up at the timeout naming the server that still has sessions", "[pools][lb]") {
  Rig rig;
  rig.haproxy->set_sessions("old-2", 1);
  auto result = rig.sim.run(rig.lb.ensure_deleted({"old-1", "old-2"}, 5s, 1s));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::timeout);
  CHECK(result.error().message.find("old-2 still had connections") != std::string::npos);
  CHECK(rig.haproxy->server_names() == Strings{"old-2"});
}

TEST_CASE("waiting names the servers that never got there, with status and check", "[pools][lb]") {
  Rig rig;
  rig.haproxy->set_app("old-1", test::AppHealth::down);
  auto result = rig.sim.run(rig.lb.wait_until({"old-1", "old-2"}, [](const ServerStat& s) { return s.is_nolb(); },
                                              "NOLB", 5s, 500ms));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::timeout);
  CHECK(result.error().message == "lb1: after 5000 ms, not yet NOLB: old-1 (DOWN, check L4CON), old-2 (UP, check L7OK)");
}

TEST_CASE("an HAProxy error is surfaced with the command it refused", "[pools][lb]") {
  Rig rig;
  auto result = rig.sim.run(rig.lb.ensure_health_enabled({"nope"}));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message.find("no server app/nope") != std::string::npos);
  rig.haproxy->set_garbage_answer("[3]: Permission denied\n");
  auto refused = rig.sim.run(rig.lb.stats());
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message == "lb1: Permission denied");
}

TEST_CASE("a fleet runs an operation on every LB and names the one that did not answer", "[pools][fleet]") {
  test::Simulation sim;
  auto lb1 = std::make_shared<test::FakeHaproxy>("app", sim.clock);
  auto lb2 = std::make_shared<test::FakeHaproxy>("app", sim.clock);
  auto lb3 = std::make_shared<test::FakeHaproxy>("app", sim.clock);
  for (auto* h : {lb1.get(), lb2.get(), lb3.get()}) h->add_config_server("old-1", "127.0.0.1:9001");
  std::vector<std::unique_ptr<LoadBalancer>> lbs;
  lbs.push_back(std::make_unique<LoadBalancer>("lb1", "app", lb1, sim.clock));
  lbs.push_back(std::make_unique<LoadBalancer>("lb2", "app", lb2, sim.clock));
  lbs.push_back(std::make_unique<LoadBalancer>("lb3", "app", lb3, sim.clock));
  Fleet fleet(std::move(lbs));
  lb2->set_reachable(false);
  auto per_lb = sim.run(fleet.each<std::vector<ServerStat>>([](LoadBalancer& lb) { return lb.stats(); }));
  REQUIRE(per_lb.size() == 3);
  CHECK(per_lb[0].result.has_value());
  REQUIRE_FALSE(per_lb[1].result.has_value());
  CHECK(per_lb[1].lb == "lb2");
  CHECK(per_lb[1].result.error().kind == ErrorKind::unreachable);
  CHECK(per_lb[2].result.has_value());
  auto all = Fleet::collect(std::move(per_lb));
  REQUIRE_FALSE(all.has_value());
  CHECK(all.error().message.starts_with("lb2: "));
}

TEST_CASE("a fleet wait reads no more often than four times as long as a read takes", "[pools][fleet]") {
  test::Simulation sim;
  auto fast = std::make_shared<test::FakeHaproxy>("app", sim.clock);
  auto slow = std::make_shared<test::FakeHaproxy>("app", sim.clock);
  for (auto* h : {fast.get(), slow.get()}) h->add_config_server("old-1", "127.0.0.1:9001");
  std::vector<std::unique_ptr<LoadBalancer>> lbs;
  lbs.push_back(std::make_unique<LoadBalancer>("lb1", "app", fast, sim.clock));
  lbs.push_back(std::make_unique<LoadBalancer>("lb2", "app", slow, sim.clock));
  Fleet fleet(std::move(lbs));
  slow->set_answer_delay(1s);  // a backend of thousands, on a busy LB
  int reads = 0;
  FleetWait never{{{"old-1"}, {"old-1"}}, [](const ServerStat&) { return false; }, "never", 30s, 100ms,
                  [&reads](const std::vector<std::vector<ServerStat>>&) -> Result<void> {
                    ++reads;
                    return {};
                  }};
  const auto started = sim.clock.now();
  auto waited = sim.run(fleet.wait_until(std::move(never), sim.clock));
  REQUIRE_FALSE(waited.has_value());
  CHECK(waited.error().kind == ErrorKind::timeout);
  CHECK(waited.error().message.find("lb2: old-1 (UP") != std::string::npos);
  // Each round: a read of 1 s, then a pause of 4 s (not the 100 ms poll):
  // 30 s hold 6 or 7 reads, not the 27 a 100 ms poll would make.
  CHECK(reads >= 6);
  CHECK(reads <= 7);
  CHECK(sim.clock.now() - started >= 30s);
  // A fast fleet still reads at the poll.
  slow->set_answer_delay(0ms);
  reads = 0;
  FleetWait brief{{{"old-1"}, {"old-1"}}, [](const ServerStat&) { return false; }, "never", 1s, 100ms,
                  [&reads](const std::vector<std::vector<ServerStat>>&) -> Result<void> {
                    ++reads;
                    return {};
                  }};
  REQUIRE_FALSE(sim.run(fleet.wait_until(std::move(brief), sim.clock)).has_value());
  CHECK(reads >= 10);
  // A read that took long (an LB's blip ridden out) stretches the pause to
  // 5 s at most, and never past the timeout.
  slow->set_answer_delay(10s);
  reads = 0;
  FleetWait blip{{{"old-1"}, {"old-1"}}, [](const ServerStat&) { return false; }, "never", 12s, 100ms,
                 [&reads](const std::vector<std::vector<ServerStat>>&) -> Result<void> {
                   ++reads;
                   return {};
                 }};
  const auto blip_started = sim.clock.now();
  REQUIRE_FALSE(sim.run(fleet.wait_until(std::move(blip), sim.clock)).has_value());
  CHECK(reads == 2);  // at 0-10 s, then after a pause of 2 s (the time left), 12-22 s
  CHECK(sim.clock.now() - blip_started <= 23s);
}

TEST_CASE("a batch of hundreds of commands goes out in exchanges of 200, in order", "[pools][lb]") {
  Rig rig;
  std::vector<NewServer> servers;
  for (int i = 1; i <= 450; ++i) servers.push_back({"v2-" + std::to_string(i), "127.0.0.1:" + std::to_string(20000 + i), 1000u + i});
  const auto before = rig.haproxy->connections();
  auto added = rig.sim.run(rig.lb.ensure_added(servers, rig.options));
  REQUIRE(added.has_value());
  CHECK(added->commands.size() == 450);
  CHECK(rig.haproxy->connections() - before == 1 + 3);  // the read, then 200 + 200 + 50
  const auto names = rig.haproxy->server_names();
  REQUIRE(names.size() == 452);
  CHECK(names[2] == "v2-1");
  CHECK(names.back() == "v2-450");
}

TEST_CASE("a server already gone when its delete arrives counts as deleted (a timed-out batch ran after all)",
          "[pools][lb]") {
  Rig rig;
  rig.haproxy->delete_before_next_change("old-1");
  auto deleted = rig.sim.run(rig.lb.ensure_deleted({"old-1", "old-2"}, 5s, 100ms));
  INFO((deleted ? std::string("ok") : deleted.error().message));
  REQUIRE(deleted.has_value());
  CHECK(rig.haproxy->server("old-1") == nullptr);
  CHECK(rig.haproxy->server("old-2") == nullptr);
  CHECK(says_no_such_server("[3]: No such server.\n"));
  CHECK_FALSE(says_no_such_server("[3]: Permission denied.\n"));
}

TEST_CASE("setting states and weights reads show servers state alone, not show stat", "[pools][lb][scale]") {
  Rig rig;
  rig.haproxy->clear_log();
  REQUIRE(rig.sim.run(rig.lb.ensure_state({"old-1"}, AdminTarget::drain)).has_value());
  REQUIRE(rig.sim.run(rig.lb.ensure_weight({{"old-2", 7}})).has_value());
  const auto& log = rig.haproxy->log();
  CHECK(std::none_of(log.begin(), log.end(), [](const std::string& c) { return c.starts_with("show stat"); }));
  CHECK(std::count(log.begin(), log.end(), std::string("show servers state app")) == 2);
  CHECK(rig.haproxy->mutations() == Strings{"set server app/old-1 state drain", "set weight app/old-2 7"});
  // Its view says what show stat would: the same addresses, ids, states and weights.
  auto light = rig.sim.run(rig.lb.admin_snapshot());
  auto full = rig.sim.run(rig.lb.snapshot());
  REQUIRE(light.has_value());
  REQUIRE(full.has_value());
  CHECK(light->stats.empty());
  const auto lines = [&](const BackendState& state) {
    Strings out;
    for (const auto& d : rig.lb.desired_lines(state)) {
      out.push_back(fmt::format("{} {} {} {} {} {}", d.name, d.address, d.id, d.options, d.maint, d.weight));
    }
    return out;
  };
  CHECK(lines(*light) == lines(*full));
  CHECK(lines(*light).size() == 2);
  CHECK(light->address_of("old-2") == "127.0.0.1:9002");
}

TEST_CASE("a server show servers state gives no address for is read from show stat", "[pools][lb][scale]") {
  Rig rig;
  rig.haproxy->add_runtime_server("sock", "/run/app.sock");  // no port: srv_addr "-" on a real HAProxy too
  auto light = rig.sim.run(rig.lb.admin_snapshot());
  REQUIRE(light.has_value());
  CHECK_FALSE(light->stats.empty());  // the whole snapshot, so no line loses its address
  CHECK(light->address_of("sock") == "/run/app.sock");
  CHECK(light->address_of("old-1") == "127.0.0.1:9001");
}
