#include "tests/support/sshd_fixture.hpp"

#include <fmt/format.h>
#include <stdexcept>
#include <sys/stat.h>

namespace lbctl::test {

namespace {

constexpr const char* k_sshd = "/usr/sbin/sshd";

void keygen(const std::filesystem::path& file, const std::string& comment) {
  const auto made = run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file.string()});
  if (made.exit_code != 0) throw std::runtime_error("ssh-keygen failed: " + made.out);
}

std::string first_line_of(const std::filesystem::path& file) {
  std::string text = read_file(file);
  return text.substr(0, text.find('\n'));
}

// sshd_config's SetEnv line for `environment` ("" when empty): each
// NAME=VALUE in double quotes (a value may hold spaces).
std::string set_env(const std::vector<std::pair<std::string, std::string>>& environment) {
  if (environment.empty()) return {};
  std::string line = "SetEnv";
  for (const auto& [name, value] : environment) {
    if ((name + value).find_first_of("\"\\\n") != std::string::npos) throw std::runtime_error("SetEnv cannot hold " + name);
    line += " \"" + name + "=" + value + "\"";
  }
  return line + "\n";
}

std::size_t count_lines_with(const std::filesystem::path& log, const std::string& text) {
  const std::string content = read_file(log);
  std::size_t count = 0;
  for (std::size_t at = content.find(text); at != std::string::npos; at = content.find(text, at + 1)) ++count;
  return count;
}

}  // namespace

bool sshd_available() { return std::filesystem::exists(k_sshd); }

SshdFixture::SshdFixture(SshdOptions options) : m_options(std::move(options)) {
  if (!sshd_available()) throw std::runtime_error("sshd is not installed (apt-get install openssh-server)");
  const auto& dir = m_dir.path();
  ::chmod(dir.c_str(), 0700);
  // Privilege separation wants this folder (Debian's unit makes it at boot).
  std::filesystem::create_directories("/run/sshd");
  ::chmod("/run/sshd", 0755);
  keygen(dir / "host_key", "lbctl test host");
  keygen(dir / "id_ed25519", "lbctl test client");
  m_identity = dir / "id_ed25519";
  std::string key_line = first_line_of(dir / "id_ed25519.pub");
  if (!m_options.key_options.empty()) key_line = m_options.key_options + " " + key_line;
  m_dir.write("authorized_keys", key_line + "\n");
  m_port = m_options.port != 0 ? m_options.port : free_port();
  const std::string host_key_pub = first_line_of(dir / "host_key.pub");
  const std::string host = m_port == 22 ? m_options.address : fmt::format("[{}]:{}", m_options.address, m_port);
  m_known_hosts = m_dir.write("known_hosts", host + " " + host_key_pub.substr(0, host_key_pub.rfind(' ')) + "\n");
  m_dir.write("sshd_config", fmt::format(R"(Port {}
ListenAddress {}
HostKey {}/host_key
AuthorizedKeysFile {}/authorized_keys
PidFile {}/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100:30:200
MaxSessions 100
LogLevel VERBOSE
)",
                                         m_port, m_options.address, dir.string(), dir.string(), dir.string()) +
                             set_env(m_options.environment));
  std::vector<std::string> argv = m_options.launcher;
  for (const std::string& arg : {std::string(k_sshd), std::string("-D"), std::string("-e"), std::string("-f"),
                                (dir / "sshd_config").string()}) {
    argv.push_back(arg);
  }
  m_process = std::make_unique<ChildProcess>(argv, dir / "sshd.log");
  const bool up = eventually([&] {
    const std::string log = read_file(dir / "sshd.log");
    return log.find("Server listening") != std::string::npos || !m_process->running();
  });
  if (!up || !m_process->running()) {
    throw std::runtime_error("sshd did not start: " + read_file(dir / "sshd.log"));
  }
}

SshdFixture::~SshdFixture() {
  if (m_process) m_process->stop();
}

std::size_t SshdFixture::logins() const { return count_lines_with(m_dir.path() / "sshd.log", "Accepted publickey"); }

std::size_t SshdFixture::sessions() const { return count_lines_with(m_dir.path() / "sshd.log", "Starting session:"); }

pools::RuntimeApiEndpoint SshdFixture::endpoint(const std::string& socket) const {
  pools::RuntimeApiEndpoint endpoint;
  endpoint.kind = pools::RuntimeApiEndpoint::Kind::ssh;
  endpoint.user = "root";
  endpoint.host = m_options.address;
  endpoint.port = m_port;
  endpoint.path = socket;
  endpoint.ssh.identity_file = m_identity;
  endpoint.ssh.known_hosts = m_known_hosts;
  return endpoint;
}

std::string SshdFixture::url(const std::string& socket) const {
  return fmt::format("ssh://root@{}:{}{}", m_options.address, m_port, socket);
}

std::filesystem::path SshdFixture::wrong_known_hosts() const {
  const auto other = m_dir.path() / "other_host_key";
  if (!std::filesystem::exists(other)) keygen(other, "some other host");
  const std::string pub = first_line_of(other.string() + ".pub");
  return m_dir.write("wrong_known_hosts", fmt::format("[{}]:{} {}\n", m_options.address, m_port,
                                                      pub.substr(0, pub.rfind(' '))));
}

}  // namespace lbctl::test
