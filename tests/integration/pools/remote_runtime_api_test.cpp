// The runtime API of an HAProxy on "another host": over OpenSSH (a real sshd
// on loopback, the far side's socat joined to the admin socket) and over
// mutual TLS (configs/haproxy-tls-cli.cfg's listen section in front of the
// socket). Every failure names the cause, and trust problems are config
// errors (exit 2), never retried.

#include "tests/support/catch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <fmt/format.h>
#include <thread>

#include "pools/haproxy_socket.hpp"
#include "pools/load_balancer.hpp"
#include "pools/ssh_runtime_api.hpp"
#include "tests/support/app_server_fixture.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "core/clock.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/sshd_fixture.hpp"
#include "tests/support/test_certificates.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

Result<Strings> run(boost::asio::io_context& io, RuntimeApi& api, Strings commands) {
  return run_async(io, api.run(std::move(commands)));
}

// An HAProxy whose admin socket is reached only through the TLS listen section.
struct TlsLb {
  TempDir dir;
  TestCertificates ca{dir / "ca"};
  TestCertificates other_ca{dir / "other-ca", "someone else's CA"};
  std::uint16_t port = free_port();
  std::unique_ptr<HaproxyFixture> haproxy;

  TlsLb() {
    const KeyPair server = ca.server("lb", {"lb2.example.test"});
    const auto pem = dir.write("lb.pem", read_file(server.cert) + read_file(server.key));
    HaproxyOptions options;
    options.master_worker = true;
    options.edit_config = [this, pem](const std::string& config) {
      return config + "\n" + tls_cli_listen("lbctl-cli", pem, ca.ca_cert(), port, stats_socket_of(config));
    };
    haproxy = std::make_unique<HaproxyFixture>(options);
  }

  RuntimeApiEndpoint endpoint(const KeyPair& client, const std::filesystem::path& ca_file) const {
    RuntimeApiEndpoint endpoint;
    endpoint.kind = RuntimeApiEndpoint::Kind::tls;
    endpoint.host = "127.0.0.1";
    endpoint.port = port;
    endpoint.tls = {ca_file, client.cert, client.key, "lb2.example.test"};
    return endpoint;
  }
};

}  // namespace

TEST_CASE("over ssh, one long-lived connection and one kept prompt-mode session carry every batch, the master CLI "
          "rides on a connection too",
          "[integration][ssh]") {
  HaproxyFixture haproxy({.master_worker = true});
  SshdFixture sshd;
  boost::asio::io_context io;
  SshRuntimeApi api(sshd.endpoint(haproxy.socket_path()), 5s);
  const auto first = run(io, api, {"show info", "show servers state app"});
  REQUIRE(first.has_value());
  CHECK_THAT(first->at(0), Catch::Contains("Name: HAProxy"));
  CHECK_THAT(first->at(1), Catch::Contains("be_name"));
  // A payload command and a wrong one: answers in order, severities kept.
  const auto second = run(io, api, {"add map " + haproxy.dir().string() + "/nope.map <<\nkey value", "show info"});
  REQUIRE(second.has_value());
  CHECK_THAT(second->at(0), Catch::StartsWith("[3]:"));
  CHECK_THAT(second->at(1), Catch::Contains("Name: HAProxy"));
  CHECK(api.connections_started() == 1);
  CHECK(api.sessions_started() == 1);
  CHECK(api.connection_pid() > 0);

  SshRuntimeApi master(sshd.endpoint(haproxy.master_socket_path()), 5s, CliDialect::master);
  const auto proc = run(io, master, {"show proc", "show proc"});
  REQUIRE(proc.has_value());
  CHECK_THAT(proc->at(0), Catch::Contains("master"));
  CHECK_THAT(proc->at(1), Catch::Contains("worker"));
  CHECK(master.connections_started() == 1);
}

TEST_CASE("over ssh, a connection killed mid-batch fails the batch as `timeout` (maybe run), the next connects afresh",
          "[integration][ssh]") {
  HaproxyFixture haproxy;
  SshdFixture sshd;
  boost::asio::io_context io;
  SshRuntimeApi api(sshd.endpoint(haproxy.socket_path()), 10s);
  REQUIRE(run(io, api, {"show info"}).has_value());
  const pid_t connection = api.connection_pid();
  REQUIRE(connection > 0);
  // A batch long enough to be cut (20,000 reads, megabytes of answers); the
  // connection dies 100 ms in, once the session is under way.
  Strings many(20000, "show stat");
  boost::asio::steady_timer killer(io, 100ms);
  killer.async_wait([connection](boost::system::error_code) { ::kill(connection, SIGKILL); });
  const auto cut = run(io, api, many);
  REQUIRE_FALSE(cut.has_value());
  CHECK(cut.error().kind == ErrorKind::timeout);
  CHECK_THAT(cut.error().message, Catch::Contains("may have run"));
  const auto after = run(io, api, {"show info"});
  REQUIRE(after.has_value());
  CHECK_THAT(after->at(0), Catch::Contains("Name: HAProxy"));
  CHECK(api.connections_started() == 2);
}

TEST_CASE("over ssh, after a reload the next batch reaches the new worker, and no session holds the old one",
          "[integration][ssh]") {
  HaproxyFixture haproxy({.master_worker = true});
  SshdFixture sshd;
  boost::asio::io_context io;
  SshRuntimeApi api(sshd.endpoint(haproxy.socket_path()), 5s);
  REQUIRE(run(io, api, {"show info"}).has_value());
  // The kept session is the old worker's now: the next batch must not go to it.
  haproxy.reload();
  const auto after = run(io, api, {"show info"});
  REQUIRE(after.has_value());
  CHECK(pid_in_show_info(after->at(0)) == haproxy.worker_pid());
  CHECK(api.sessions_started() == 2);
  // And nothing holds the old worker any more: it ends.
  CHECK(eventually([&] { return haproxy.old_workers().empty(); }, 10s));
  const auto again = run(io, api, {"show info"});
  REQUIRE(again.has_value());
  CHECK(api.sessions_started() == 2);
}

TEST_CASE("over ssh, an unknown host key, a refused login, a missing socket or socat are config errors that say so",
          "[integration][ssh]") {
  HaproxyFixture haproxy;
  SshdFixture sshd;
  boost::asio::io_context io;
  const auto check = [&](RuntimeApiEndpoint endpoint, const std::string& words) {
    SshRuntimeApi api(std::move(endpoint), 5s);
    const auto result = run(io, api, {"show info"});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().kind == ErrorKind::invalid);
    CHECK_THAT(result.error().message, Catch::Contains(words));
  };
  auto endpoint = sshd.endpoint(haproxy.socket_path());
  endpoint.ssh.known_hosts = sshd.wrong_known_hosts();
  check(endpoint, "the host key of 127.0.0.1 is not the one in ssh.known_hosts");
  endpoint.ssh.known_hosts = sshd.dir() / "empty_known_hosts";
  check(endpoint, "the host key of 127.0.0.1 is not the one in ssh.known_hosts");

  endpoint = sshd.endpoint(haproxy.socket_path());
  TempDir keys;
  REQUIRE(run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (keys / "stranger").string()}).exit_code == 0);
  endpoint.ssh.identity_file = keys / "stranger";
  check(endpoint, "root@127.0.0.1 refused the login");

  check(sshd.endpoint("/run/no-such-haproxy.sock"), "there is no socket at /run/no-such-haproxy.sock on 127.0.0.1");

  endpoint = sshd.endpoint(haproxy.socket_path());
  endpoint.ssh.command = {"socat-not-installed", "STDIO", "UNIX-CONNECT:{socket}"};
  check(endpoint, "socat-not-installed is not installed on 127.0.0.1");

  // Nobody listening: the network, retried (not a config error).
  endpoint = sshd.endpoint(haproxy.socket_path());
  endpoint.port = free_port();
  SshRuntimeApi closed(endpoint, 5s);
  const auto refused = run(io, closed, {"show info"});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().kind == ErrorKind::unreachable);
  CHECK_THAT(refused.error().message, Catch::Contains("Connection refused"));
}

TEST_CASE("over ssh, connect_early starts the connection before any batch: the first batch uses it, or reports why "
          "it failed",
          "[integration][ssh]") {
  HaproxyFixture haproxy;
  SshdFixture sshd;
  boost::asio::io_context io;
  SshRuntimeApi api(sshd.endpoint(haproxy.socket_path()), 5s);
  api.connect_early();
  // The handshake goes on without the caller: the connection is up before the first batch asks.
  std::this_thread::sleep_for(1500ms);
  CHECK(sshd.logins() == 1);
  const auto answers = run(io, api, {"show info"});
  REQUIRE(answers.has_value());
  CHECK_THAT(answers->at(0), Catch::Contains("Name: HAProxy"));
  CHECK(api.connections_started() == 1);
  CHECK(sshd.logins() == 1);

  // A connection that cannot be made early is the first batch's error, named as ever.
  auto endpoint = sshd.endpoint(haproxy.socket_path());
  endpoint.ssh.known_hosts = sshd.wrong_known_hosts();
  SshRuntimeApi refused(endpoint, 5s);
  refused.connect_early();
  const auto failed = run(io, refused, {"show info"});
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().kind == ErrorKind::invalid);
  CHECK_THAT(failed.error().message, Catch::Contains("the host key of 127.0.0.1 is not the one in ssh.known_hosts"));
}

TEST_CASE("over ssh with a key confined to the socket (authorized_keys command=...,restrict), lbctl still works",
          "[integration][ssh]") {
  HaproxyFixture haproxy;
  SshdFixture sshd({.key_options = fmt::format("command=\"socat STDIO UNIX-CONNECT:{}\",restrict",
                                               haproxy.socket_path())});
  boost::asio::io_context io;
  SshRuntimeApi api(sshd.endpoint(haproxy.socket_path()), 5s);
  const auto answers = run(io, api, {"show info"});
  REQUIRE(answers.has_value());
  CHECK_THAT(answers->at(0), Catch::Contains("Name: HAProxy"));
  // The key can do nothing else: a shell command sent instead is ignored.
  const auto shell = run_command({"ssh", "-T", "-o", "BatchMode=yes", "-o",
                                  "UserKnownHostsFile=" + sshd.known_hosts().string(), "-i",
                                  sshd.identity_file().string(), "-p", std::to_string(sshd.port()), "root@127.0.0.1",
                                  "echo", "shell-reached"});
  CHECK(shell.out.find("shell-reached") == std::string::npos);
}

TEST_CASE("over mutual TLS, the listen section in configs/ carries every batch, trust problems are config errors",
          "[integration][tls]") {
  TlsLb lb;
  boost::asio::io_context io;
  const KeyPair lbctl_cert = lb.ca.client("lbctl", "lbctl");
  SocketRuntimeApi api(lb.endpoint(lbctl_cert, lb.ca.ca_cert()), 5s);
  const auto answers = run(io, api, {"show info", "show servers state app"});
  REQUIRE(answers.has_value());
  CHECK_THAT(answers->at(0), Catch::Contains("Name: HAProxy"));
  CHECK_THAT(answers->at(1), Catch::Contains("be_name"));

  auto refused = [&](const RuntimeApiEndpoint& endpoint, const std::string& words) {
    SocketRuntimeApi client(endpoint, 5s);
    const auto result = run(io, client, {"show info"});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().kind == ErrorKind::invalid);
    CHECK_THAT(result.error().message, Catch::Contains(words));
  };
  // lbctl trusting another CA: the LB's certificate is refused.
  refused(lb.endpoint(lbctl_cert, lb.other_ca.ca_cert()), "the LB's certificate is not signed by tls.ca_file");
  // A certificate from another CA, and one of ours with another CN: the LB refuses them.
  refused(lb.endpoint(lb.other_ca.client("stranger", "lbctl"), lb.ca.ca_cert()), "tls://127.0.0.1:");
  refused(lb.endpoint(lb.ca.client("intern", "intern"), lb.ca.ca_cert()), "before answering");
  // The name in the LB's certificate must be the one lbctl dials.
  auto wrong_name = lb.endpoint(lbctl_cert, lb.ca.ca_cert());
  wrong_name.tls.server_name = "lb9.example.test";
  refused(wrong_name, "does not name lb9.example.test");
  // A key file that is not there: named.
  auto no_key = lb.endpoint(lbctl_cert, lb.ca.ca_cert());
  no_key.tls.key_file = lb.dir / "missing.key";
  refused(no_key, "cannot use tls.key_file");

  // HAProxy refuses a client without a certificate, and plain text to the TLS port.
  const auto no_cert = run_command({"sh", "-c",
                                    fmt::format("printf 'show info\\n' | openssl s_client -quiet -connect 127.0.0.1:{} "
                                                "-CAfile {} 2>&1",
                                                lb.port, lb.ca.ca_cert().string())},
                                   10s);
  CHECK(no_cert.out.find("Name: HAProxy") == std::string::npos);
  RuntimeApiEndpoint plain;
  plain.kind = RuntimeApiEndpoint::Kind::tcp;
  plain.host = "127.0.0.1";
  plain.port = lb.port;
  SocketRuntimeApi plain_client(plain, 3s);
  const auto plain_result = run(io, plain_client, {"show info"});
  CHECK_FALSE(plain_result.has_value());
}

TEST_CASE("a LoadBalancer over ssh and over TLS adds, checks, readies and deletes servers as over the local socket",
          "[integration][ssh][tls]") {
  AppServerFixture app({.name = "v2-1"});
  TlsLb tls_lb;
  HaproxyFixture& haproxy = *tls_lb.haproxy;
  SshdFixture sshd;
  boost::asio::io_context io;
  SteadyClock clock;
  const KeyPair lbctl_cert = tls_lb.ca.client("lbctl", "lbctl");
  const std::vector<std::shared_ptr<RuntimeApi>> apis{
      std::make_shared<SshRuntimeApi>(sshd.endpoint(haproxy.socket_path()), 5s),
      std::make_shared<SocketRuntimeApi>(tls_lb.endpoint(lbctl_cert, tls_lb.ca.ca_cert()), 5s)};
  std::uint64_t id = 1001;
  for (const auto& api : apis) {
    INFO(api->describe());
    LoadBalancer lb("lb1", "app", api, clock);
    const std::string name = fmt::format("v2-{}", id);
    auto added = run_async(io, lb.ensure_added({{name, app.address(), id}}, *parse_server_options("check inter 200ms fall 2 rise 2", nullptr)));
    REQUIRE(added.has_value());
    CHECK(haproxy.status(name) == "MAINT");
    REQUIRE(run_async(io, lb.ensure_health_enabled({name})).has_value());
    REQUIRE(run_async(io, lb.wait_until({name}, [](const ServerStat& s) { return s.check_passed(); }, "L7OK", 5s, 50ms)));
    REQUIRE(run_async(io, lb.ensure_state({name}, AdminTarget::ready)).has_value());
    REQUIRE(run_async(io, lb.wait_until({name}, [](const ServerStat& s) { return s.is_fully_up(); }, "UP", 5s, 50ms)));
    CHECK(haproxy.status(name) == "UP");
    // Twice: nothing the second time.
    auto again = run_async(io, lb.ensure_state({name}, AdminTarget::ready));
    REQUIRE(again.has_value());
    CHECK(again->commands.empty());
    REQUIRE(run_async(io, lb.ensure_deleted({name}, 5s, 100ms)).has_value());
    CHECK(haproxy.status(name).empty());
    ++id;
  }
}
