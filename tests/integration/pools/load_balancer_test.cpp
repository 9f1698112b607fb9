// The HAProxy fleet adapter against real HAProxy 2.6 and real app servers.

#include "tests/support/catch.hpp"

#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>

#include "pools/fleet.hpp"
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

RuntimeApiEndpoint unix_endpoint(const HaproxyFixture& haproxy) {
  RuntimeApiEndpoint endpoint;
  endpoint.path = haproxy.socket_path();
  return endpoint;
}

RuntimeApiEndpoint tcp_endpoint(const HaproxyFixture& haproxy) {
  RuntimeApiEndpoint endpoint;
  endpoint.kind = RuntimeApiEndpoint::Kind::tcp;
  endpoint.host = "127.0.0.1";
  endpoint.port = haproxy.admin_port();
  return endpoint;
}

// Counts what reaches the socket, to prove that hostile input never does.
class CountingApi final : public RuntimeApi {
 public:
  explicit CountingApi(std::shared_ptr<RuntimeApi> inner) : m_inner(std::move(inner)) {}
  boost::asio::awaitable<Result<std::vector<std::string>>> run(std::vector<std::string> commands) override {
    ++calls;
    return m_inner->run(std::move(commands));
  }
  std::string describe() const override { return m_inner->describe(); }
  int calls = 0;

 private:
  std::shared_ptr<RuntimeApi> m_inner;
};

HaproxyOptions with_servers(const std::vector<const AppServerFixture*>& apps) {
  HaproxyOptions options;
  for (std::size_t i = 0; i < apps.size(); ++i) {
    options.servers.push_back({"old-" + std::to_string(i + 1), apps[i]->address(), ""});
  }
  return options;
}

ServerOptions fast_checks() { return *parse_server_options("check inter 200ms fall 2 rise 2", nullptr); }


}  // namespace

TEST_CASE("a new server is added in MAINT, checked to L7OK, then made ready and UP", "[integration][pools]") {
  AppServerFixture old_app({.name = "old-1"});
  AppServerFixture new_app({.name = "v2-1"});
  HaproxyFixture haproxy(with_servers({&old_app}));
  boost::asio::io_context io;
  SteadyClock clock;
  for (auto endpoint : {unix_endpoint(haproxy), tcp_endpoint(haproxy)}) {
    INFO(endpoint.to_string());
    LoadBalancer lb("lb1", "app", std::make_shared<SocketRuntimeApi>(endpoint, 2s), clock);
    const std::string name = endpoint.kind == RuntimeApiEndpoint::Kind::tcp ? "v2-tcp" : "v2-unix";
    const std::uint64_t id = endpoint.kind == RuntimeApiEndpoint::Kind::tcp ? 1002 : 1001;
    auto added = run_async(io, lb.ensure_added({{name, new_app.address(), id}}, fast_checks()));
    REQUIRE(added.has_value());
    CHECK(added->commands == Strings{"add server app/" + name + " " + new_app.address() + " id " + std::to_string(id) +
                                     " check inter 200ms fall 2 rise 2"});
    CHECK(haproxy.status(name) == "MAINT");
    REQUIRE(run_async(io, lb.ensure_health_enabled({name})).has_value());
    auto checked = run_async(io, lb.wait_until({name}, [](const ServerStat& s) { return s.check_passed(); }, "L7OK", 5s, 50ms));
    REQUIRE(checked.has_value());
    CHECK(haproxy.status(name) == "MAINT");  // checked, and still no traffic
    CHECK(haproxy.stat_field(name, "check_status") == "L7OK");
    REQUIRE(run_async(io, lb.ensure_state({name}, AdminTarget::ready)).has_value());
    auto up = run_async(io, lb.wait_until({name}, [](const ServerStat& s) { return s.is_fully_up(); }, "UP", 5s, 50ms));
    REQUIRE(up.has_value());
    CHECK(haproxy.status(name) == "UP");
    CHECK(haproxy.stat_field(name, "sid") == std::to_string(id));
  }
}

TEST_CASE("every operation run twice changes nothing the second time", "[integration][pools]") {
  AppServerFixture old_app({.name = "old-1"});
  AppServerFixture new_app({.name = "v2-1"});
  HaproxyFixture haproxy(with_servers({&old_app}));
  boost::asio::io_context io;
  SteadyClock clock;
  LoadBalancer lb("lb1", "app", std::make_shared<SocketRuntimeApi>(unix_endpoint(haproxy), 2s), clock);
  auto twice = [&](auto make) {
    auto first = run_async(io, make());
    REQUIRE(first.has_value());
    CHECK_FALSE(first->commands.empty());
    auto second = run_async(io, make());
    REQUIRE(second.has_value());
    CHECK(second->commands.empty());
  };
  twice([&] { return lb.ensure_added({{"v2-1", new_app.address(), 1001}}, fast_checks()); });
  twice([&] { return lb.ensure_health_enabled({"v2-1"}); });
  twice([&] { return lb.ensure_state({"v2-1"}, AdminTarget::ready); });
  twice([&] { return lb.ensure_weight({{"v2-1", 7}}); });
  CHECK(haproxy.stat_field("v2-1", "uweight") == "7");
  twice([&] { return lb.ensure_state({"old-1"}, AdminTarget::drain); });
  CHECK(haproxy.status("old-1") == "DRAIN");
  twice([&] { return lb.ensure_state({"old-1"}, AdminTarget::maint); });
  CHECK(haproxy.status("old-1") == "MAINT");
  twice([&] { return lb.ensure_deleted({"old-1"}, 5s, 100ms); });
  CHECK(haproxy.servers() == Strings{"v2-1"});
}

TEST_CASE("a removed health file turns a server NOLB and restoring it turns it UP", "[integration][pools]") {
  AppServerFixture old_app({.name = "old-1"});
  HaproxyFixture haproxy(with_servers({&old_app}));
  boost::asio::io_context io;
  SteadyClock clock;
  LoadBalancer lb("lb1", "app", std::make_shared<SocketRuntimeApi>(unix_endpoint(haproxy), 2s), clock);
  old_app.remove_health_file();
  auto nolb = run_async(io, lb.wait_until({"old-1"}, [](const ServerStat& s) { return s.is_nolb(); }, "NOLB", 5s, 50ms));
  REQUIRE(nolb.has_value());
  CHECK(haproxy.stat_field("old-1", "check_status") == "L7OKC");
  // NOLB takes no new sessions but serves what it has.
  old_app.restore_health_file();
  auto up = run_async(io, lb.wait_until({"old-1"}, [](const ServerStat& s) { return s.is_fully_up(); }, "UP", 5s, 50ms));
  REQUIRE(up.has_value());
}

TEST_CASE("del server is refused while a request is held open and done once it ends", "[integration][pools]") {
  AppServerFixture old_app({.name = "old-1"});
  AppServerFixture new_app({.name = "v2-1"});
  HaproxyFixture haproxy(with_servers({&old_app}));
  boost::asio::io_context io;
  SteadyClock clock;
  LoadBalancer lb("lb1", "app", std::make_shared<SocketRuntimeApi>(unix_endpoint(haproxy), 2s), clock);
  auto held = std::async(std::launch::async, [&] { return http_get(haproxy.frontend_port(), "/slow?ms=2500", 10s); });
  REQUIRE(eventually([&] { return haproxy.stat_field("old-1", "scur") == "1"; }, 2s));
  // HAProxy itself refuses while the request runs.
  haproxy.command("set server app/old-1 state maint");
  CHECK(haproxy.command("del server app/old-1").find("still has connections attached") != std::string::npos);
  const auto started = std::chrono::steady_clock::now();
  // The request ends while the server is in MAINT: its connection then waits
  // in HAProxy's idle pool until the pool purge (pool-purge-delay, 5 s by
  // default), and del keeps being retried until then.
  auto deleted = run_async(io, lb.ensure_deleted({"old-1"}, 30s, 100ms));
  const auto took = std::chrono::steady_clock::now() - started;
  INFO((deleted ? std::string("ok") : deleted.error().message));
  REQUIRE(deleted.has_value());
  CHECK(held.get().status == 200);  // the held request finished normally
  CHECK(took > 1500ms);
  CHECK(haproxy.servers().empty());
}

TEST_CASE("del server gives up at its timeout while a request is held, naming the server", "[integration][pools]") {
  AppServerFixture old_app({.name = "old-1"});
  HaproxyFixture haproxy(with_servers({&old_app}));
  boost::asio::io_context io;
  SteadyClock clock;
  LoadBalancer lb("lb1", "app", std::make_shared<SocketRuntimeApi>(unix_endpoint(haproxy), 2s), clock);
  auto held = std::async(std::launch::async, [&] { return http_get(haproxy.frontend_port(), "/slow?ms=3000", 10s); });
  REQUIRE(eventually([&] { return haproxy.stat_field("old-1", "scur") == "1"; }, 2s));
  auto deleted = run_async(io, lb.ensure_deleted({"old-1"}, 500ms, 100ms));
  REQUIRE_FALSE(deleted.has_value());
  CHECK(deleted.error().kind == ErrorKind::timeout);
  CHECK(deleted.error().message.find("old-1 still had connections") != std::string::npos);
  CHECK(haproxy.servers() == Strings{"old-1"});
  // shutdown sessions cuts it, and then it goes.
  auto cut = run_async(io, lb.shutdown_sessions({"old-1"}));
  REQUIRE(cut.has_value());
  CHECK(cut->commands == Strings{"shutdown sessions server app/old-1"});
  CHECK(run_async(io, lb.ensure_deleted({"old-1"}, 5s, 100ms)).has_value());
  held.get();
}

TEST_CASE("one fleet call reads and changes two LBs, and names the one that is down", "[integration][pools]") {
  AppServerFixture old_app({.name = "old-1"});
  HaproxyFixture lb1(with_servers({&old_app}));
  HaproxyFixture lb2(with_servers({&old_app}));
  boost::asio::io_context io;
  SteadyClock clock;
  std::vector<std::unique_ptr<LoadBalancer>> lbs;
  lbs.push_back(std::make_unique<LoadBalancer>("lb1", "app", std::make_shared<SocketRuntimeApi>(unix_endpoint(lb1), 2s), clock));
  lbs.push_back(std::make_unique<LoadBalancer>("lb2", "app", std::make_shared<SocketRuntimeApi>(tcp_endpoint(lb2), 2s), clock));
  Fleet fleet(std::move(lbs));
  auto drained = run_async(io, fleet.all<Applied>([](LoadBalancer& lb) {
    return lb.ensure_state({"old-1"}, AdminTarget::drain);
  }));
  REQUIRE(drained.has_value());
  CHECK(lb1.status("old-1") == "DRAIN");
  CHECK(lb2.status("old-1") == "DRAIN");

  lb2.stop();
  auto per_lb = run_async(io, fleet.each<std::vector<ServerStat>>([](LoadBalancer& lb) { return lb.stats(); }));
  REQUIRE(per_lb.size() == 2);
  CHECK(per_lb[0].result.has_value());
  REQUIRE_FALSE(per_lb[1].result.has_value());
  CHECK(per_lb[1].result.error().kind == ErrorKind::unreachable);
  CHECK(per_lb[1].result.error().message.starts_with("lb2: "));
}

TEST_CASE("an LB that accepts but never answers times out, named", "[integration][pools]") {
  // A listener that never speaks: the runtime API timeout must fire.
  boost::asio::io_context io;
  SteadyClock clock;
  const auto port = free_port();
  ChildProcess silent({"python3", "-c",
                       "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                       "s.bind(('127.0.0.1'," + std::to_string(port) + "))\ns.listen()\nc=s.accept()\ntime.sleep(30)"});
  REQUIRE(wait_for_port(port, 5s));
  RuntimeApiEndpoint endpoint;
  endpoint.kind = RuntimeApiEndpoint::Kind::tcp;
  endpoint.host = "127.0.0.1";
  endpoint.port = port;
  LoadBalancer lb("lb3", "app", std::make_shared<SocketRuntimeApi>(endpoint, 500ms), clock);
  const auto started = std::chrono::steady_clock::now();
  auto stats = run_async(io, lb.stats());
  REQUIRE_FALSE(stats.has_value());
  CHECK(stats.error().kind == ErrorKind::timeout);
  CHECK(stats.error().message.starts_with("lb3: "));
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("hostile names never reach the socket", "[integration][pools]") {
  AppServerFixture old_app({.name = "old-1"});
  HaproxyFixture haproxy(with_servers({&old_app}));
  boost::asio::io_context io;
  SteadyClock clock;
  auto counting = std::make_shared<CountingApi>(std::make_shared<SocketRuntimeApi>(unix_endpoint(haproxy), 2s));
  LoadBalancer lb("lb1", "app", counting, clock);
  const std::vector<std::string> hostiles{"v2;shutdown sessions server app/old-1", "v2 1", "v2\nshow info", "v2\\;x",
                                         std::string("v2\0x", 4), "a/b"};
  for (const auto& hostile : hostiles) {
    INFO(hostile);
    CHECK_FALSE(run_async(io, lb.ensure_added({{hostile, "127.0.0.1:9", 1001}}, fast_checks())).has_value());
    CHECK_FALSE(run_async(io, lb.ensure_state({hostile}, AdminTarget::maint)).has_value());
    CHECK_FALSE(run_async(io, lb.ensure_deleted({hostile}, 1s, 100ms)).has_value());
    CHECK_FALSE(run_async(io, lb.shutdown_sessions({hostile})).has_value());
    CHECK_FALSE(run_async(io, lb.ensure_weight({{hostile, 1}})).has_value());
  }
  LoadBalancer hostile_backend("lb1", "app;disable server app/old-1", counting, clock);
  CHECK_FALSE(run_async(io, hostile_backend.stats()).has_value());
  CHECK(counting->calls == 0);
  CHECK(haproxy.status("old-1") == "UP");
}

TEST_CASE("a batch of many commands goes on one connection with one answer each", "[integration][pools]") {
  AppServerFixture app({.name = "old-1"});
  HaproxyFixture haproxy(with_servers({&app}));
  boost::asio::io_context io;
  SteadyClock clock;
  LoadBalancer lb("lb1", "app", std::make_shared<SocketRuntimeApi>(unix_endpoint(haproxy), 5s), clock);
  std::vector<NewServer> servers;
  for (int i = 1; i <= 300; ++i) servers.push_back({"v2-" + std::to_string(i), app.address(), 2000u + static_cast<unsigned>(i)});
  auto added = run_async(io, lb.ensure_added(servers, fast_checks()));
  REQUIRE(added.has_value());
  CHECK(added->commands.size() == 300);
  auto stats = run_async(io, lb.stats());
  REQUIRE(stats.has_value());
  CHECK(stats->size() == 301);
}

TEST_CASE("abilities read the socket's level and the backend's algorithm from a real HAProxy", "[integration][pools]") {
  AppServerFixture old_app({.name = "old-1"});
  const auto [balance, operator_socket] =
      GENERATE(std::make_tuple(std::string("roundrobin"), false), std::make_tuple(std::string("static-rr"), true),
               std::make_tuple(std::string("source"), false));
  INFO(balance << (operator_socket ? ", socket at level operator" : ""));
  auto options = with_servers({&old_app});
  options.balance = balance;
  if (operator_socket) {
    options.edit_config = [](const std::string& text) {
      const auto at = text.find(" mode 600 level admin");
      return text.substr(0, at) + " mode 600 level operator" + text.substr(at + 21);
    };
  }
  HaproxyFixture haproxy(options);
  boost::asio::io_context io;
  SteadyClock clock;
  LoadBalancer lb("lb1", "app", std::make_shared<SocketRuntimeApi>(unix_endpoint(haproxy), 2s), clock);
  auto abilities = run_async(io, lb.abilities());
  REQUIRE(abilities.has_value());
  CHECK(abilities->cli_level == (operator_socket ? "operator" : "admin"));
  CHECK(abilities->algo == balance);
  // source without hash-type consistent: HAProxy refused the throwaway server (and it is not there).
  CHECK(abilities->dynamic_servers == (balance == "roundrobin"));
  CHECK(haproxy.status("lbctl-probe").empty());
}

TEST_CASE("a real HAProxy's stick table: its entries counted per server id, and dynamic cookies for a server added "
          "at runtime",
          "[integration][pools][sticky]") {
  AppServerFixture old_app({.name = "old-1"});
  AppServerFixture new_app({.name = "v2-1"});
  auto options = with_servers({&old_app});
  options.extra_backend = {"stick-table type ip size 1k expire 30s", "stick on src",
                           "cookie SRV insert indirect nocache dynamic", "dynamic-cookie-key k3y"};
  HaproxyFixture haproxy(options);
  REQUIRE(http_get(haproxy.frontend_port(), "/who").status == 200);  // one client: one entry, on old-1
  boost::asio::io_context io;
  SteadyClock clock;
  LoadBalancer lb("lb1", "app", std::make_shared<SocketRuntimeApi>(unix_endpoint(haproxy), 2s), clock);
  auto abilities = run_async(io, lb.abilities());
  REQUIRE(abilities.has_value());
  REQUIRE(abilities->stick_tables.size() == 1);
  CHECK(abilities->stick_tables[0].name == "app");
  CHECK(abilities->stick_tables[0].used == 1);
  CHECK(abilities->cookie_name == "SRV");
  auto entries = run_async(io, lb.stick_entries());
  REQUIRE(entries.has_value());
  auto stats = run_async(io, lb.stats());
  REQUIRE(stats.has_value());
  REQUIRE(entries->size() == 1);
  CHECK(entries->begin()->first == stats->front().id);
  CHECK(entries->begin()->second == 1);
  CHECK(stats->front().last_session_s >= 0);

  REQUIRE(run_async(io, lb.ensure_added({{"v2-1", new_app.address(), 1001}}, fast_checks())).has_value());
  auto cookies = run_async(io, lb.ensure_dynamic_cookies({"v2-1"}));
  INFO((cookies ? std::string() : cookies.error().message));
  REQUIRE(cookies.has_value());
  // 2.6 derives the cookie only when asked; 3.0 at the add, and nothing is sent.
  CHECK(cookies->commands.size() == (haproxy.at_least(3, 0) ? 0u : 1u));
  CHECK(haproxy.stat_field("v2-1", "cookie").size() == 16);
  CHECK(haproxy.stat_field("old-1", "cookie").size() == 16);
  auto again = run_async(io, lb.ensure_dynamic_cookies({"v2-1"}));
  REQUIRE(again.has_value());
  CHECK(again->commands.empty());
}
