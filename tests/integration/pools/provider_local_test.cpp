#include "tests/support/catch.hpp"
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <boost/asio/io_context.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "core/clock.hpp"
#include "core/process.hpp"
#include "pools/provider_local.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

namespace {

Strings http_server_command() {
  return Strings{"python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", "{dir}"};
}

std::uint16_t port_of(const Server& server) { return parse_address(server.address)->port; }

pid_t pid_in(const fs::path& dir) { return static_cast<pid_t>(std::stoi(test::read_file(dir / "pid"))); }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A local provider over a temp base_dir, on a port range starting at a port
// free now (the provider skips the busy ones in it). Whatever runs in the
// layout at the end is killed, so a failed test leaves nothing behind.
struct Rig {
  test::TempDir dir;
  boost::asio::io_context io;
  SteadyClock clock;
  LocalProviderOptions options;
  std::unique_ptr<LocalProvider> provider;

  explicit Rig(Strings command = http_server_command()) {
    options.command = std::move(command);
    const std::uint16_t first = test::free_port();
    options.ports = PortRange{first, static_cast<std::uint16_t>(std::min(65535, first + 40))};
    options.base_dir = dir / "servers";
    options.start_timeout = 10s;
    options.stop_grace = 3s;
    provider = std::make_unique<LocalProvider>(options, clock);
  }
  ~Rig() {
    std::error_code ec;
    for (fs::directory_iterator it(options.base_dir, ec), end; !ec && it != end; it.increment(ec)) {
      const ServerDir server(options.base_dir, it->path().filename().string(), options.health_file);
      if (auto pid = server.live_pid()) {
        ::kill(-*pid, SIGKILL);
        ::kill(*pid, SIGKILL);
      }
    }
  }

  fs::path server_dir(const std::string& name) const { return options.base_dir / name; }
  Result<std::vector<Server>> clone(const Strings& names) { return test::run_async(io, provider->clone(names, std::nullopt)); }
  Result<void> terminate(const Server& server) { return test::run_async(io, provider->terminate(server)); }
};

}  // namespace

TEST_CASE("the local provider clones servers that answer on their own ports", "[integration][pools][local]") {
  Rig rig;
  auto servers = rig.clone(Strings{"v2-1", "v2-2", "v2-3"});
  REQUIRE(servers.has_value());
  REQUIRE(servers->size() == 3);
  std::set<std::uint16_t> ports;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& server = (*servers)[i];
    CHECK(server.name == "v2-" + std::to_string(i + 1));
    const auto port = port_of(server);
    ports.insert(port);
    CHECK(port >= rig.options.ports.min);
    CHECK(port <= rig.options.ports.max);
    CHECK(test::http_get(port, "/health-check.html").status == 200);
    CHECK(test::read_file(rig.server_dir(server.name) / "address") == server.address + "\n");
    CHECK(process_alive(pid_in(rig.server_dir(server.name))));
  }
  CHECK(ports.size() == 3);
}

TEST_CASE("a second local clone returns the same servers without starting processes", "[integration][pools][local]") {
  Rig rig;
  auto first = rig.clone(Strings{"v2-1", "v2-2"});
  REQUIRE(first.has_value());
  const pid_t pid1 = pid_in(rig.server_dir("v2-1"));
  const pid_t pid2 = pid_in(rig.server_dir("v2-2"));
  auto second = rig.clone(Strings{"v2-1", "v2-2"});
  REQUIRE(second.has_value());
  CHECK(*second == *first);
  CHECK(pid_in(rig.server_dir("v2-1")) == pid1);
  CHECK(pid_in(rig.server_dir("v2-2")) == pid2);
}

TEST_CASE("removing a local server's health file gives 404 and restoring it 200", "[integration][pools][local]") {
  Rig rig;
  auto servers = rig.clone(Strings{"v2-1"});
  REQUIRE(servers.has_value());
  const auto server = servers->front();
  REQUIRE(test::run_async(rig.io, rig.provider->remove_health_file(server)).has_value());
  CHECK(test::http_get(port_of(server), "/health-check.html").status == 404);
  REQUIRE(test::run_async(rig.io, rig.provider->remove_health_file(server)).has_value());  // again: no-op
  REQUIRE(test::run_async(rig.io, rig.provider->restore_health_file(server)).has_value());
  CHECK(test::http_get(port_of(server), "/health-check.html").status == 200);
  REQUIRE(test::run_async(rig.io, rig.provider->restore_health_file(server)).has_value());
}

TEST_CASE("health-file operations on a server without a folder fail", "[integration][pools][local]") {
  Rig rig;
  auto removed = test::run_async(rig.io, rig.provider->remove_health_file(Server{"old-9", "127.0.0.1:8109"}));
  REQUIRE_FALSE(removed.has_value());
  CHECK(has(removed.error().message, "old-9 has no folder"));
  auto dotdot = test::run_async(rig.io, rig.provider->remove_health_file(Server{"..", "127.0.0.1:8109"}));
  REQUIRE_FALSE(dotdot.has_value());
  CHECK(has(dotdot.error().message, "is not a server name"));
}

TEST_CASE("terminate frees a local server's port and a second terminate is a no-op", "[integration][pools][local]") {
  Rig rig;
  auto servers = rig.clone(Strings{"v2-1"});
  REQUIRE(servers.has_value());
  const auto server = servers->front();
  const pid_t pid = pid_in(rig.server_dir("v2-1"));
  REQUIRE(rig.terminate(server).has_value());
  CHECK_FALSE(process_alive(pid));
  CHECK(test::http_get(port_of(server), "/health-check.html", 1s).status == 0);
  CHECK_FALSE(fs::exists(rig.server_dir("v2-1") / "pid"));
  CHECK_FALSE(fs::exists(rig.server_dir("v2-1") / "address"));
  CHECK(fs::exists(rig.server_dir("v2-1") / "log"));  // kept for a post-mortem
  REQUIRE(rig.terminate(server).has_value());
  REQUIRE(rig.terminate(Server{"never-was", "127.0.0.1:1"}).has_value());
}

TEST_CASE("terminate refuses a server whose folder records another address", "[integration][pools][local]") {
  Rig rig;
  auto servers = rig.clone(Strings{"v2-1"});
  REQUIRE(servers.has_value());
  auto refused = rig.terminate(Server{"v2-1", "127.9.9.9:80"});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(has(refused.error().message, "records " + servers->front().address));
  CHECK(test::http_get(port_of(servers->front()), "/health-check.html").status == 200);
}

TEST_CASE("a server that ignores SIGTERM is killed after the grace period", "[integration][pools][local]") {
  Rig rig(Strings{"python3", "-c",
                  "import signal, socket, time\n"
                  "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                  "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                  "s.bind(('127.0.0.1', int('{port}'))); s.listen()\n"
                  "time.sleep(60)\n"});
  rig.options.stop_grace = 500ms;
  rig.provider = std::make_unique<LocalProvider>(rig.options, rig.clock);
  auto servers = rig.clone(Strings{"v2-1"});
  REQUIRE(servers.has_value());
  const pid_t pid = pid_in(rig.server_dir("v2-1"));
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(rig.terminate(servers->front()).has_value());
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK_FALSE(process_alive(pid));
  CHECK(took >= 500ms);
  CHECK(took < 3s);
}

TEST_CASE("a local server command that exits at once is an error naming the server with its log",
          "[integration][pools][local]") {
  Rig rig(Strings{"python3", "-c", "import sys; print('cannot read config for {name}', file=sys.stderr); sys.exit(2)"});
  const auto started = std::chrono::steady_clock::now();
  auto servers = rig.clone(Strings{"v2-1"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(servers.error().kind == ErrorKind::refused);
  CHECK(has(servers.error().message, "v2-1"));
  CHECK(has(servers.error().message, "exited before accepting connections"));
  CHECK(has(servers.error().message, "cannot read config for v2-1"));
  CHECK(std::chrono::steady_clock::now() - started < 5s);  // not the whole start_timeout
  CHECK_FALSE(fs::exists(rig.server_dir("v2-1") / "pid"));
}

TEST_CASE("a local server that never listens is killed at start_timeout", "[integration][pools][local]") {
  Rig rig(Strings{"python3", "-c", "import sys, time; print('warming caches', flush=True); time.sleep(60)"});
  rig.options.start_timeout = 800ms;
  rig.provider = std::make_unique<LocalProvider>(rig.options, rig.clock);
  auto servers = rig.clone(Strings{"v2-1"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(servers.error().kind == ErrorKind::timeout);
  CHECK(has(servers.error().message, "v2-1"));
  CHECK(has(servers.error().message, "within 800ms (killed)"));
  CHECK(has(servers.error().message, "warming caches"));
  CHECK_FALSE(fs::exists(rig.server_dir("v2-1") / "pid"));
}

TEST_CASE("local clone skips ports recorded by other servers and ports in use", "[integration][pools][local]") {
  Rig rig;
  const auto min = rig.options.ports.min;
  // Another server's folder records the first port (its process is gone).
  fs::create_directories(rig.server_dir("other"));
  std::ofstream(rig.server_dir("other") / "address") << "127.0.0.1:" << min << "\n";
  // Something else listens on the next port we can bind (other tests run
  // meanwhile: the port right after min may be someone's already).
  int listener = -1;
  std::uint16_t busy = 0;
  for (std::uint16_t port = min + 1; port <= rig.options.ports.max && listener < 0; ++port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd, 8) == 0) {
      listener = fd;
      busy = port;
    } else {
      ::close(fd);
    }
  }
  REQUIRE(listener >= 0);
  auto servers = rig.clone(Strings{"v2-1"});
  ::close(listener);
  REQUIRE(servers.has_value());
  CHECK(port_of(servers->front()) != min);
  CHECK(port_of(servers->front()) != busy);
}

TEST_CASE("a local server whose process died is started again", "[integration][pools][local]") {
  Rig rig;
  auto first = rig.clone(Strings{"v2-1"});
  REQUIRE(first.has_value());
  const pid_t old_pid = pid_in(rig.server_dir("v2-1"));
  ::kill(old_pid, SIGKILL);
  REQUIRE(test::eventually([&] { return !process_alive(old_pid); }));
  auto second = rig.clone(Strings{"v2-1"});
  REQUIRE(second.has_value());
  CHECK(pid_in(rig.server_dir("v2-1")) != old_pid);
  CHECK(test::http_get(port_of(second->front()), "/health-check.html").status == 200);
}

TEST_CASE("servers someone else started in the layout are found, drained and terminated", "[integration][pools][local]") {
  Rig rig;
  const auto port = test::free_port();
  const auto dir = rig.server_dir("old-1");
  fs::create_directories(dir);
  std::ofstream(dir / "health-check.html") << "ok\n";
  // Started through a shell in the background: not lbctl's child, and not a
  // process group leader.
  const auto started = test::run_command(
      {"sh", "-c", "python3 -m http.server \"$0\" --bind 127.0.0.1 --directory \"$1\" >\"$1/log\" 2>&1 & echo $! >\"$1/pid\"",
       std::to_string(port), dir.string()});
  REQUIRE(started.exit_code == 0);
  REQUIRE(test::wait_for_port(port, 10s));
  std::ofstream(dir / "address") << "127.0.0.1:" << port << "\n";
  const pid_t pid = pid_in(dir);

  auto found = rig.clone(Strings{"old-1"});
  REQUIRE(found.has_value());
  CHECK(found->front() == Server{"old-1", "127.0.0.1:" + std::to_string(port)});
  CHECK(pid_in(dir) == pid);
  REQUIRE(test::run_async(rig.io, rig.provider->remove_health_file(found->front())).has_value());
  CHECK(test::http_get(port, "/health-check.html").status == 404);
  REQUIRE(rig.terminate(found->front()).has_value());
  CHECK(test::eventually([&] { return !process_alive(pid); }, 2s));
  CHECK(test::http_get(port, "/health-check.html", 1s).status == 0);
}

TEST_CASE("a pid file naming a process younger than the file is not signalled", "[integration][pools][local]") {
  Rig rig;
  const auto dir = rig.server_dir("old-1");
  fs::create_directories(dir);
  test::ChildProcess stranger(Strings{"sleep", "30"});
  std::ofstream(dir / "pid") << stranger.pid() << "\n";
  // The file claims to be an hour older than the process: a reused pid.
  fs::last_write_time(dir / "pid", fs::file_time_type::clock::now() - 1h);
  REQUIRE(rig.terminate(Server{"old-1", "127.0.0.1:1"}).has_value());
  CHECK(stranger.running());
  CHECK_FALSE(fs::exists(dir / "pid"));
}

TEST_CASE("removing a local server's health file turns it NOLB in HAProxy and restoring it UP",
          "[integration][pools][local][haproxy]") {
  Rig rig;
  auto servers = rig.clone(Strings{"old-1", "old-2"});
  REQUIRE(servers.has_value());
  test::HaproxyOptions options;
  for (const auto& server : *servers) options.servers.push_back(test::BackendServer{server.name, server.address, ""});
  options.server_options = "check inter 200ms fall 2 rise 2";
  test::HaproxyFixture haproxy(options);
  REQUIRE(test::eventually([&] { return haproxy.status("old-1") == "UP" && haproxy.status("old-2") == "UP"; }));

  REQUIRE(test::run_async(rig.io, rig.provider->remove_health_file(servers->front())).has_value());
  CHECK(test::eventually([&] { return haproxy.status("old-1") == "NOLB"; }, 5s));
  CHECK(haproxy.status("old-2") == "UP");
  REQUIRE(test::run_async(rig.io, rig.provider->restore_health_file(servers->front())).has_value());
  CHECK(test::eventually([&] { return haproxy.status("old-1") == "UP"; }, 5s));
}
