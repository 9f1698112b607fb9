// LoadBalancer with a persisted haproxy.cfg against a real HAProxy 2.6 run
// master-worker as Debian's unit runs it: what it changes at runtime is in the
// file, so a reload (SIGUSR2) or a restart comes back to it; the master CLI
// shows the sessions a reload's old worker still serves.

#include "tests/support/catch.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>

#include "core/process.hpp"
#include "pools/backend_file.hpp"
#include "pools/config_store.hpp"
#include "pools/haproxy_socket.hpp"
#include "pools/load_balancer.hpp"
#include "tests/support/app_server_fixture.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/run_async.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

const std::string k_options = "check inter 200ms fall 2 rise 2";

RuntimeApiEndpoint unix_endpoint(const std::string& path) {
  RuntimeApiEndpoint endpoint;
  endpoint.path = path;
  return endpoint;
}

HaproxyOptions master_worker_with(const AppServerFixture& old_app) {
  HaproxyOptions options;
  options.master_worker = true;
  options.servers.push_back({"old-1", old_app.address(), ""});
  return options;
}

// An LB as lbctl wires it with persist (a local file checked by `haproxy -c`)
// and master_api, patient with an LB that does not answer for a while.
struct PersistedLb {
  PersistedLb(HaproxyFixture& haproxy, Clock& clock) : lb("lb1", "app", api(haproxy.socket_path(), CliDialect::stats), clock) {
    auto store = std::make_shared<LocalFileStore>(processes, Strings{haproxy_program(), "-c", "-q", "-f", "{file}"}, 10s);
    lb.persist_to(std::make_shared<BackendFile>(store, haproxy.config_file().string(), "app", true), k_options);
    lb.use_master(api(haproxy.master_socket_path(), CliDialect::master));
    lb.set_patience(5s);
  }
  static std::shared_ptr<SocketRuntimeApi> api(const std::string& path, CliDialect dialect) {
    return std::make_shared<SocketRuntimeApi>(unix_endpoint(path), 2s, dialect);
  }

  PosixProcessRunner processes;
  LoadBalancer lb;
};

}  // namespace

TEST_CASE("a server added, made ready and an old one deleted at runtime are all still so after a reload and a restart",
          "[integration][persist][reload]") {
  AppServerFixture old_app({.name = "old-1"});
  AppServerFixture new_app({.name = "v2-1"});
  HaproxyFixture haproxy(master_worker_with(old_app));
  boost::asio::io_context io;
  SteadyClock clock;
  PersistedLb persisted(haproxy, clock);
  auto& lb = persisted.lb;
  const auto original = read_file(haproxy.config_file());
  const std::string old_line = "  server old-1 " + old_app.address() + " " + k_options + "\n";
  const std::string new_line = "  server v2-1 " + new_app.address() + " id 1000 " + k_options;

  REQUIRE(run_async(io, lb.ensure_added({{"v2-1", new_app.address(), 1000}},
                                        *parse_server_options(k_options, nullptr)))
              .has_value());
  // Added in MAINT: the file says `disabled`, after the old server's line.
  CHECK(read_file(haproxy.config_file()) == original + new_line + " disabled\n");
  REQUIRE(run_async(io, lb.ensure_health_enabled({"v2-1"})).has_value());
  REQUIRE(run_async(io, lb.wait_until({"v2-1"}, [](const ServerStat& s) { return s.check_passed(); }, "L7OK", 5s, 50ms))
              .has_value());
  REQUIRE(run_async(io, lb.ensure_state({"v2-1"}, AdminTarget::ready)).has_value());
  CHECK(read_file(haproxy.config_file()) == original + new_line + "\n");
  REQUIRE(run_async(io, lb.ensure_deleted({"old-1"}, 10s, 100ms)).has_value());
  std::string expected = original;
  expected.erase(expected.find(old_line), old_line.size());
  expected += new_line + "\n";
  CHECK(read_file(haproxy.config_file()) == expected);

  haproxy.reload();
  CHECK(haproxy.servers() == Strings{"v2-1"});
  CHECK(haproxy.stat_field("v2-1", "sid") == "1000");
  CHECK(eventually([&] { return haproxy.status("v2-1") == "UP"; }, 5s));
  haproxy.restart();
  CHECK(haproxy.servers() == Strings{"v2-1"});
  CHECK(eventually([&] { return haproxy.status("v2-1") == "UP"; }, 5s));
  // Born in the file now, it can be deleted at runtime again, and the file follows.
  REQUIRE(run_async(io, lb.ensure_deleted({"v2-1"}, 10s, 100ms)).has_value());
  CHECK(haproxy.servers().empty());
  CHECK(read_file(haproxy.config_file()) == expected.substr(0, expected.size() - new_line.size() - 1));
}

TEST_CASE("the sessions a reload left to the old worker are counted through the master CLI, even while it re-executes",
          "[integration][persist][reload]") {
  AppServerFixture old_app({.name = "old-1"});
  HaproxyFixture haproxy(master_worker_with(old_app));
  auto held = std::async(std::launch::async, [&] { return http_get(haproxy.frontend_port(), "/slow?ms=4000", 20s); });
  REQUIRE(eventually([&] { return haproxy.stat_field("old-1", "scur") == "1"; }, 3s));

  // Asks the master CLI again and again while the master re-executes itself
  // on SIGUSR2 (it refuses connections for a moment): an LB with patience
  // must ride that out as it does for the admin socket.
  std::atomic<bool> reloading{true};
  auto asker = std::async(std::launch::async, [&] {
    boost::asio::io_context io;
    SteadyClock clock;
    PersistedLb persisted(haproxy, clock);
    std::vector<std::string> failures;
    while (reloading) {
      auto sessions = run_async(io, persisted.lb.old_worker_sessions({"old-1"}));
      if (!sessions) failures.push_back(sessions.error().message);
    }
    return failures;
  });
  std::this_thread::sleep_for(100ms);
  haproxy.reload();
  std::this_thread::sleep_for(300ms);
  reloading = false;
  const auto failures = asker.get();
  INFO((failures.empty() ? std::string() : failures.front()));
  CHECK(failures.empty());

  REQUIRE(haproxy.old_workers().size() == 1);
  CHECK(haproxy.stat_field("old-1", "scur") == "0");  // the new worker does not count it
  boost::asio::io_context io;
  SteadyClock clock;
  PersistedLb persisted(haproxy, clock);
  auto sessions = run_async(io, persisted.lb.old_worker_sessions({"old-1"}));
  REQUIRE(sessions.has_value());
  CHECK(*sessions == std::unordered_map<std::string, std::uint64_t>{{"old-1", 1}});
  CHECK(held.get().status == 200);
  // The old worker leaves once its last session ends.
  CHECK(eventually([&] { return haproxy.old_workers().empty(); }, 5s));
  auto after = run_async(io, persisted.lb.old_worker_sessions({"old-1"}));
  REQUIRE(after.has_value());
  CHECK(after->empty());
}
