#pragma once
// A real OpenSSH server for tests: sshd on a free loopback port (or an
// address given, inside a test's network namespace), its own host key,
// a client key lbctl logs in with (as root: the tests run as root), and the
// known_hosts file that trusts exactly this server. Stopped when the fixture
// goes. Needs the openssh-server package (/usr/sbin/sshd).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pools/runtime_api_endpoint.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lbctl::test {

struct SshdOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: a free one
  // Prepended to the key's authorized_keys line: `command="...",restrict`.
  std::string key_options{};
  // argv prefix to start sshd in (e.g. {"ip", "netns", "exec", "lb1"}).
  std::vector<std::string> launcher{};
  // Variables every session gets (sshd's SetEnv), as a host's own settings would.
  std::vector<std::pair<std::string, std::string>> environment{};
};

class SshdFixture {
 public:
  explicit SshdFixture(SshdOptions options = {});
  ~SshdFixture();

  const std::string& address() const { return m_options.address; }
  std::uint16_t port() const { return m_port; }
  const std::filesystem::path& identity_file() const { return m_identity; }
  const std::filesystem::path& known_hosts() const { return m_known_hosts; }
  const std::filesystem::path& dir() const { return m_dir.path(); }
  // How many times a client logged in (a connection authenticated).
  std::size_t logins() const;
  // How many sessions (commands) were started, on any connection.
  std::size_t sessions() const;
  // An ssh:// endpoint to `socket` on this server, with its key and known_hosts.
  pools::RuntimeApiEndpoint endpoint(const std::string& socket) const;
  // "ssh://root@ADDRESS:PORT/SOCKET"
  std::string url(const std::string& socket) const;
  // A second known_hosts file holding some other key: a host key lbctl must refuse.
  std::filesystem::path wrong_known_hosts() const;

 private:
  SshdOptions m_options;
  TempDir m_dir;
  std::uint16_t m_port = 0;
  std::filesystem::path m_identity;
  std::filesystem::path m_known_hosts;
  std::unique_ptr<ChildProcess> m_process;
};

// True when this machine can run SshdFixture (sshd installed).
bool sshd_available();

}  // namespace lbctl::test
