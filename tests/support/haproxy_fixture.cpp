#include "tests/support/haproxy_fixture.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace lbctl::test {

using namespace std::chrono_literals;

namespace {

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) out.push_back(field);
  return out;
}

}  // namespace

HaproxyFixture::HaproxyFixture(HaproxyOptions options) : m_options(std::move(options)) {
  m_socket = (m_dir.path() / "admin.sock").string();
  m_admin_port = free_port();
  m_frontend_port = free_port();
  std::ostringstream cfg;
  cfg << "global\n"
      << "  stats socket " << m_socket << " mode 600 level admin\n"
      << "  stats socket ipv4@127.0.0.1:" << m_admin_port << " level admin\n";
  for (const auto& line : m_options.extra_global) cfg << "  " << line << "\n";
  cfg << "defaults\n"
      << "  mode http\n"
      << "  timeout connect 2s\n"
      << "  timeout client 60s\n"
      << "  timeout server 60s\n"
      // Checks get their own read timeout, not `inter` (200 ms in most
      // tests, too short for sanitized servers on a busy machine).
      << "  timeout check 2s\n"
      << "  retries 3\n"
      << "  option redispatch\n"
      << "frontend fe\n"
      << "  bind 127.0.0.1:" << m_frontend_port << "\n";
  for (const auto& line : m_options.extra_frontend) cfg << "  " << line << "\n";
  cfg << "  default_backend " << m_options.backend << "\n"
      << "backend " << m_options.backend << "\n"
      << "  balance " << m_options.balance << "\n"
      << "  option httpchk GET " << m_options.health_path << "\n";
  if (m_options.disable_on_404) cfg << "  http-check disable-on-404\n";
  for (const auto& line : m_options.extra_backend) cfg << "  " << line << "\n";
  for (const auto& server : m_options.servers) {
    cfg << "  server " << server.name << " " << server.address << " "
        << (server.options.empty() ? m_options.server_options : server.options) << "\n";
  }
  const auto config_file = m_dir.write("haproxy.cfg", cfg.str());
  m_process = std::make_unique<ChildProcess>(
      std::vector<std::string>{"haproxy", "-f", config_file.string(), "-db"}, m_dir.path() / "haproxy.log");
  const bool ready = eventually(
      [&] { return m_process->running() && command("show info").find("Name: HAProxy") != std::string::npos; }, 10s);
  if (!ready || !wait_for_port(m_frontend_port, 5s)) {
    throw std::runtime_error("haproxy did not start: " + read_file(m_dir.path() / "haproxy.log"));
  }
}

HaproxyFixture::~HaproxyFixture() { stop(); }

void HaproxyFixture::stop() {
  if (m_process) m_process->stop(2s);
  m_process.reset();
}

std::string HaproxyFixture::command(const std::string& line) const {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", m_socket.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  const std::string request = line + "\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

std::string HaproxyFixture::stat_field(const std::string& server, const std::string& field) const {
  std::istringstream lines(command("show stat " + m_options.backend + " 4 -1"));
  std::string line;
  std::vector<std::string> header;
  while (std::getline(lines, line)) {
    if (line.rfind("# ", 0) == 0) {
      header = split(line.substr(2), ',');
      continue;
    }
    const auto fields = split(line, ',');
    if (fields.size() < 2 || fields[1] != server) continue;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) {
      if (header[i] == field) return fields[i];
    }
  }
  return {};
}

std::string HaproxyFixture::status(const std::string& server) const { return stat_field(server, "status"); }

std::vector<std::string> HaproxyFixture::servers() const {
  std::istringstream lines(command("show stat " + m_options.backend + " 4 -1"));
  std::string line;
  std::vector<std::string> names;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto fields = split(line, ',');
    if (fields.size() > 1) names.push_back(fields[1]);
  }
  return names;
}

}  // namespace lbctl::test
