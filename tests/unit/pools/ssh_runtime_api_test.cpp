// The SSH transport's pure parts: the argv handed to ssh (no shell here, and
// only quoted words for the far side's), and what a failed session's stderr
// is taken to mean.

#include "tests/support/catch.hpp"

#include <algorithm>

#include "pools/ssh_command.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace std::chrono_literals;

namespace {

RuntimeApiEndpoint lb1() {
  RuntimeApiEndpoint endpoint;
  endpoint.kind = RuntimeApiEndpoint::Kind::ssh;
  endpoint.user = "lbctl";
  endpoint.host = "lb1.example.com";
  endpoint.port = 2222;
  endpoint.path = "/run/haproxy/admin.sock";
  endpoint.ssh.known_hosts = "/etc/lbctl/known_hosts";
  endpoint.ssh.identity_file = "/etc/lbctl/id_ed25519";
  return endpoint;
}

bool has_pair(const std::vector<std::string>& argv, const std::string& flag, const std::string& value) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && argv[i + 1] == value) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("shell_quote leaves plain words and single-quotes the rest", "[ssh]") {
  CHECK(shell_quote("UNIX-CONNECT:/run/haproxy/admin.sock") == "UNIX-CONNECT:/run/haproxy/admin.sock");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("$(reboot)") == "'$(reboot)'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("") == "''");
}

TEST_CASE("ssh's argv: strict host keys from the config's file, batch mode, the identity, sharing, then the command",
          "[ssh]") {
  const auto argv = ssh_argv(lb1(), 5s, "/tmp/lbctl-ssh.x/c1", SshRole::session);
  REQUIRE(argv.size() > 4);
  CHECK(argv.front() == "ssh");
  CHECK(has_pair(argv, "-o", "BatchMode=yes"));
  CHECK(has_pair(argv, "-o", "StrictHostKeyChecking=yes"));
  CHECK(has_pair(argv, "-o", "UserKnownHostsFile=/etc/lbctl/known_hosts"));
  CHECK(has_pair(argv, "-o", "GlobalKnownHostsFile=/dev/null"));
  CHECK(has_pair(argv, "-i", "/etc/lbctl/id_ed25519"));
  CHECK(has_pair(argv, "-o", "IdentitiesOnly=yes"));
  CHECK(has_pair(argv, "-o", "ConnectTimeout=5"));
  CHECK(has_pair(argv, "-o", "ControlPath=/tmp/lbctl-ssh.x/c1"));
  // A session uses the shared connection, never starts one.
  CHECK(has_pair(argv, "-o", "ControlMaster=no"));
  CHECK(has_pair(argv, "-p", "2222"));
  CHECK(has_pair(argv, "-l", "lbctl"));
  // The host after "--": never read as an option.
  CHECK(argv[argv.size() - 3] == "--");
  CHECK(argv[argv.size() - 2] == "lb1.example.com");
  CHECK(argv.back() == "socat STDIO UNIX-CONNECT:/run/haproxy/admin.sock");

  // The connection: master, no command, gone with lbctl.
  const auto connection = ssh_argv(lb1(), 5s, "/tmp/x/c1", SshRole::connection);
  CHECK(has_pair(connection, "-o", "ControlMaster=yes"));
  CHECK(has_pair(connection, "-o", "ControlPersist=no"));
  CHECK(std::find(connection.begin(), connection.end(), "-N") != connection.end());
  CHECK(connection.back() == "lb1.example.com");

  // Without a folder for sharing: no Control options at all; timeouts round up.
  auto plain = lb1();
  plain.port = 0;
  plain.user.clear();
  plain.ssh.command = {"sudo", "-u", "haproxy", "socat", "STDIO", "UNIX-CONNECT:{socket},retry=1 x"};
  const auto bare = ssh_argv(plain, 1500ms, "", SshRole::session);
  CHECK(has_pair(bare, "-o", "ConnectTimeout=2"));
  for (const auto& arg : bare) {
    CHECK(arg.find("Control") == std::string::npos);
    CHECK(arg != "-p");
    CHECK(arg != "-l");
  }
  CHECK(bare.back() == "sudo -u haproxy socat STDIO 'UNIX-CONNECT:/run/haproxy/admin.sock,retry=1 x'");
}

TEST_CASE("a failed session's stderr names the cause, trust and login problems are config errors", "[ssh]") {
  const auto endpoint = lb1();
  auto explain = [&](std::string_view err, std::optional<int> code, bool reached = false) {
    return explain_ssh_failure(endpoint, err, code, reached);
  };
  const auto host_key = explain("No ED25519 host key is known for [lb1.example.com]:2222 and you have requested "
                                "strict checking.\r\nHost key verification failed.\r\n",
                                255);
  CHECK(host_key.kind == ErrorKind::invalid);
  CHECK_THAT(host_key.message, Catch::StartsWith("ssh://lbctl@lb1.example.com:2222/run/haproxy/admin.sock: the host "
                                                 "key of lb1.example.com is not the one in ssh.known_hosts"));
  CHECK_THAT(host_key.message, Catch::Contains("ssh-keyscan -p 2222 lb1.example.com >> /etc/lbctl/known_hosts"));

  const auto login = explain("lbctl@lb1.example.com: Permission denied (publickey).\r\n", 255);
  CHECK(login.kind == ErrorKind::invalid);
  CHECK_THAT(login.message, Catch::Contains("lbctl@lb1.example.com refused the login"));
  CHECK_THAT(login.message, Catch::Contains("/etc/lbctl/id_ed25519"));

  const std::string no_socket =
      "2026/12/06 19:00:22 socat[5287] E connect(5, AF=1 \"/run/haproxy/admin.sock\", 28): No such file or directory\n";
  CHECK(explain(no_socket, 1).kind == ErrorKind::invalid);
  CHECK_THAT(explain(no_socket, 1).message, Catch::Contains("there is no socket at /run/haproxy/admin.sock on "
                                                            "lb1.example.com"));
  // Once answered, a missing socket is HAProxy restarting: retried.
  CHECK(explain(no_socket, 1, true).kind == ErrorKind::unreachable);

  const std::string refused = "socat[9] E connect(5, AF=1 \"/run/haproxy/admin.sock\", 28): Connection refused\n";
  CHECK(explain(refused, 1).kind == ErrorKind::unreachable);
  const std::string denied = "socat[9] E connect(5, AF=1 \"/run/haproxy/admin.sock\", 28): Permission denied\n";
  CHECK(explain(denied, 1).kind == ErrorKind::invalid);
  CHECK_THAT(explain(denied, 1).message, Catch::Contains("may not open /run/haproxy/admin.sock"));

  const auto no_socat = explain("bash: line 1: socat: command not found\n", 127);
  CHECK(no_socat.kind == ErrorKind::invalid);
  CHECK_THAT(no_socat.message, Catch::Contains("socat is not installed on lb1.example.com"));

  for (const char* network : {"ssh: connect to host lb1.example.com port 2222: Connection refused\r\n",
                              "ssh: connect to host lb1.example.com port 2222: Connection timed out\r\n",
                              "ssh: connect to host lb1.example.com port 2222: No route to host\r\n",
                              "kex_exchange_identification: Connection closed by remote host\r\n"}) {
    CAPTURE(network);
    const auto error = explain(network, 255);
    CHECK(error.kind == ErrorKind::unreachable);
    CHECK_THAT(error.message, Catch::Contains("ssh to lbctl@lb1.example.com failed"));
  }
  // A session that broke with no word of why may have delivered its batch.
  CHECK(explain("", 255).kind == ErrorKind::timeout);
  CHECK(explain("Connection to 10.0.0.5 closed by remote host.\r\n", 255).kind == ErrorKind::timeout);
  CHECK(explain("ssh: Could not resolve hostname lb1.example.com: Name or service not known\r\n", 255).kind ==
        ErrorKind::unreachable);
}
