// LoadBalancer with a persisted file: every batch that changes the backend
// (or the maintenance map) rewrites the file to what the LB holds, once;
// reloads are noticed; an LB that does not answer is retried within the
// patience it was given.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "pools/backend_file.hpp"
#include "pools/load_balancer.hpp"
#include "tests/support/fake_config_store.hpp"
#include "tests/support/fake_haproxy.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

const std::string k_cfg =
    "global\n"
    "    stats socket /run/haproxy/admin.sock level admin   # the runtime API\n"
    "\n"
    "backend app\n"
    "    balance roundrobin\n"
    "    server old-1 127.0.0.1:9001 check inter 1000ms rise 2 fall 2 cookie o1\n";

struct PersistRig {
  test::Simulation sim;
  std::shared_ptr<test::FakeHaproxy> haproxy = std::make_shared<test::FakeHaproxy>("app", sim.clock);
  std::shared_ptr<test::FakeConfigStore> store = std::make_shared<test::FakeConfigStore>();
  LoadBalancer lb{"lb1", "app", haproxy, sim.clock};
  ServerOptions options = *parse_server_options("check inter 1s fall 2 rise 2", nullptr);

  PersistRig() {
    haproxy->add_config_server("old-1", "127.0.0.1:9001");
    store->put("/etc/haproxy/haproxy.cfg", k_cfg);
    store->put("/etc/haproxy/maintenance.map", "# the maintenance page\n");
    haproxy->add_map_file("/etc/haproxy/maintenance.map");
    lb.persist_to(std::make_shared<BackendFile>(store, "/etc/haproxy/haproxy.cfg", "app", true),
                  "check inter 1s fall 2 rise 2");
  }
  std::string file() const { return store->text("/etc/haproxy/haproxy.cfg"); }
};

const std::vector<NewServer> k_new_servers{{"v2-1", "127.0.0.1:9101", 1001}};

}  // namespace

TEST_CASE("an added server is written with its id and options, and disabled while in MAINT", "[pools][persist]") {
  PersistRig rig;
  REQUIRE(rig.sim.run(rig.lb.ensure_added(k_new_servers, rig.options)).has_value());
  CHECK(rig.file() == k_cfg + "    server v2-1 127.0.0.1:9101 id 1001 check inter 1s fall 2 rise 2 disabled\n");
  REQUIRE(rig.sim.run(rig.lb.ensure_health_enabled({"v2-1"})).has_value());
  REQUIRE(rig.sim.run(rig.lb.ensure_state({"v2-1"}, AdminTarget::ready)).has_value());
  CHECK(rig.file() == k_cfg + "    server v2-1 127.0.0.1:9101 id 1001 check inter 1s fall 2 rise 2\n");
  CHECK(rig.store->writes().size() == 2);  // enable health changes nothing the file says
}

TEST_CASE("a file changed by someone else since lbctl wrote it is read afresh, though lbctl asks the same",
          "[pools][persist]") {
  PersistRig rig;
  REQUIRE(rig.sim.run(rig.lb.ensure_added(k_new_servers, rig.options)).has_value());
  REQUIRE(rig.sim.run(rig.lb.ensure_health_enabled({"v2-1"})).has_value());
  REQUIRE(rig.sim.run(rig.lb.ensure_state({"v2-1"}, AdminTarget::ready)).has_value());
  const std::string written = rig.file();
  REQUIRE(rig.store->writes().size() == 2);
  // DRAIN is not written (the line says the same): nothing to write.
  REQUIRE(rig.sim.run(rig.lb.ensure_state({"v2-1"}, AdminTarget::drain)).has_value());
  CHECK(rig.store->writes().size() == 2);
  // An operator drops the line by hand; the next batch asks the file for
  // what it asked before, and the line is back.
  rig.store->put("/etc/haproxy/haproxy.cfg", k_cfg);
  auto ready = rig.sim.run(rig.lb.ensure_state({"v2-1"}, AdminTarget::ready));
  REQUIRE(ready.has_value());
  REQUIRE(ready->commands.size() == 1);
  CHECK(rig.file() == written);
  CHECK(rig.store->writes().size() == 3);
}

TEST_CASE("an old server's own line keeps its text, only disabled and weight change", "[pools][persist]") {
  PersistRig rig;
  REQUIRE(rig.sim.run(rig.lb.ensure_weight({{"old-1", 5}})).has_value());
  CHECK(rig.file().find("    server old-1 127.0.0.1:9001 check inter 1000ms rise 2 fall 2 cookie o1 weight 5\n") !=
        std::string::npos);
  REQUIRE(rig.sim.run(rig.lb.ensure_state({"old-1"}, AdminTarget::maint)).has_value());
  CHECK(rig.file().find("cookie o1 weight 5 disabled\n") != std::string::npos);
  REQUIRE(rig.sim.run(rig.lb.ensure_deleted({"old-1"}, 10s, 100ms)).has_value());
  CHECK(rig.file() == "global\n"
                      "    stats socket /run/haproxy/admin.sock level admin   # the runtime API\n"
                      "\n"
                      "backend app\n"
                      "    balance roundrobin\n");
}

TEST_CASE("an ensure that holds already writes nothing", "[pools][persist]") {
  PersistRig rig;
  REQUIRE(rig.sim.run(rig.lb.ensure_state({"old-1"}, AdminTarget::ready)).has_value());
  REQUIRE(rig.sim.run(rig.lb.ensure_weight({{"old-1", 1}})).has_value());
  CHECK(rig.store->writes().empty());
  CHECK(rig.file() == k_cfg);
}

TEST_CASE("a file the LB drifted from is written again by ensure_persisted", "[pools][persist]") {
  PersistRig rig;
  REQUIRE(rig.sim.run(rig.lb.ensure_added(k_new_servers, rig.options)).has_value());
  rig.store->put("/etc/haproxy/haproxy.cfg", k_cfg);  // someone put the old file back
  auto wrote = rig.sim.run(rig.lb.ensure_persisted());
  REQUIRE(wrote.has_value());
  CHECK(*wrote);
  CHECK(rig.file().find("server v2-1 127.0.0.1:9101 id 1001") != std::string::npos);
}

TEST_CASE("a file that cannot be written fails the batch and says the LB changed", "[pools][persist]") {
  PersistRig rig;
  rig.store->refuse_when("v2-1");
  auto added = rig.sim.run(rig.lb.ensure_added(k_new_servers, rig.options));
  REQUIRE_FALSE(added.has_value());
  CHECK(added.error().kind == ErrorKind::refused);
  CHECK(added.error().message.find("the change was made on the LB, but persisting it failed") != std::string::npos);
  CHECK(added.error().message.find("[ALERT] bad line") != std::string::npos);
  CHECK(rig.file() == k_cfg);
}

TEST_CASE("the maintenance map file follows the page on and off", "[pools][persist]") {
  PersistRig rig;
  const std::string map = "/etc/haproxy/maintenance.map";
  REQUIRE(rig.sim.run(rig.lb.ensure_map_value(map, "maintenance", "Upgrading, back at 12:30")).has_value());
  CHECK(rig.store->text(map) == "# the maintenance page\nmaintenance Upgrading, back at 12:30\n");
  REQUIRE(rig.sim.run(rig.lb.ensure_map_key_absent(map, "maintenance")).has_value());
  CHECK(rig.store->text(map) == "# the maintenance page\n");
  // A reload from the file keeps it off.
  rig.haproxy->reload_map(map, rig.store->text(map));
  CHECK(rig.haproxy->map_entries(map).empty());
}

TEST_CASE("a reload is noticed by the next read: another Pid", "[pools][reload]") {
  PersistRig rig;
  REQUIRE(rig.sim.run(rig.lb.stats()).has_value());
  CHECK(rig.lb.reloads_seen() == 0);
  rig.haproxy->reload(rig.file());
  REQUIRE(rig.sim.run(rig.lb.stats()).has_value());
  CHECK(rig.lb.reloads_seen() == 1);
  REQUIRE(rig.sim.run(rig.lb.identity()).has_value());
  CHECK(rig.lb.reloads_seen() == 1);
  CHECK(rig.lb.last_identity().pid == rig.haproxy->pid());
}

TEST_CASE("an LB that does not answer is retried within its patience, then named", "[pools][reload]") {
  PersistRig rig;
  rig.lb.set_patience(5s);
  rig.haproxy->set_reachable(false);
  bool back = false;
  auto later = [&]() -> boost::asio::awaitable<Result<Applied>> {
    co_await rig.sim.clock.sleep_for(2s);
    rig.haproxy->set_reachable(true);
    back = true;
    co_return Applied{};
  };
  std::vector<boost::asio::awaitable<Result<Applied>>> both;
  both.push_back(rig.lb.ensure_state({"old-1"}, AdminTarget::drain));
  both.push_back(later());
  auto results = rig.sim.run(when_all(std::move(both)));
  REQUIRE(back);
  REQUIRE(results[0].has_value());
  CHECK(results[0]->commands == Strings{"set server app/old-1 state drain"});

  rig.haproxy->set_reachable(false);
  const auto before = rig.sim.clock.elapsed();
  auto failed = rig.sim.run(rig.lb.stats());
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().kind == ErrorKind::unreachable);
  CHECK(rig.sim.clock.elapsed() - before >= 5s);
}

TEST_CASE("without patience an LB that does not answer fails at once", "[pools][reload]") {
  PersistRig rig;
  rig.haproxy->set_reachable(false);
  const auto before = rig.sim.clock.elapsed();
  auto failed = rig.sim.run(rig.lb.stats());
  REQUIRE_FALSE(failed.has_value());
  CHECK(rig.sim.clock.elapsed() == before);
}

TEST_CASE("show info's Pid and Start_time_sec identify the process", "[pools][reload]") {
  const auto identity = parse_identity("Name: HAProxy\nVersion: 2.6.12\nPid: 4801\nUptime_sec: 3\nStart_time_sec: 1795620666\n");
  CHECK(identity.pid == 4801);
  CHECK(identity.start_time == 1795620666);
  CHECK_FALSE(parse_identity("Unknown command\n").known());
}

TEST_CASE("show info's Version gives the HAProxy branch, and anything else leaves it unknown", "[pools][version]") {
  const auto debian12 = parse_version("Name: HAProxy\nVersion: 2.6.12-1+deb12u2\nRelease_date: 2025/06/23\nPid: 7\n");
  CHECK(debian12.text == "2.6.12-1+deb12u2");
  CHECK(debian12.major == 2);
  CHECK(debian12.minor == 6);
  CHECK_FALSE(debian12.at_least(3, 0));
  CHECK(debian12.at_least(2, 6));
  const auto debian13 = parse_version("Name: HAProxy\r\nVersion: 3.0.11-1+deb13u4\r\n");
  CHECK(debian13.text == "3.0.11-1+deb13u4");
  CHECK(debian13.at_least(3, 0));
  CHECK_FALSE(debian13.at_least(3, 1));
  CHECK(parse_version("Version: 10.2-dev1\n").at_least(3, 0));  // numbers, not text, compared
  for (const std::string& odd : std::vector<std::string>{"Unknown command\n", "Version:\n", "Version: three\n", "Version: 3\n",
                                "Version: 3.x\n", "Version: 3.0 \x1b[31m\n", "Version: " + std::string(80, '9') + ".1\n"}) {
    INFO(odd);
    const auto version = parse_version(odd);
    CHECK_FALSE(version.known());
    CHECK_FALSE(version.at_least(0, 0));
  }
}

TEST_CASE("show proc on the master CLI lists the workers a reload left behind", "[pools][reload]") {
  const std::string text =
      "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
      "4454            master          2 [failed: 0]   0d00h06m37s     2.6.12-1+deb12u4\n"
      "# workers\n"
      "7383            worker          0               0d00h00m01s     2.6.12-1+deb12u4\n"
      "# old workers\n"
      "4801            worker          1               0d00h05m59s     2.6.12-1+deb12u4\n"
      "4700            worker          2               0d00h07m01s     2.6.12-1+deb12u4\n"
      "# programs\n";
  const auto workers = parse_old_workers(text);
  REQUIRE(workers.size() == 2);
  CHECK(workers[0].pid == 4801);
  CHECK(workers[0].reloads == 1);
  CHECK(workers[1].pid == 4700);
  CHECK(parse_old_workers("# workers\n7383 worker 0 0d 2.6\n").empty());
}
