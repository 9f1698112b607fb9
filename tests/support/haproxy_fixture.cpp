#include "tests/support/haproxy_fixture.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "pools/reload_answers.hpp"

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

// Sends one line on a connected socket and reads the answer until EOF. The
// master CLI, unlike the stats socket, waits for another line after the
// answer: `end_input` shuts our write side. A stuck answer ends after 10 s.
std::string exchange(int fd, const std::string& line, bool end_input) {
  const std::string request = line + "\n";
  const timeval limit{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  if (end_input) ::shutdown(fd, SHUT_WR);
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

std::string unix_command(const std::string& path, const std::string& line, bool end_input = false) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  return exchange(fd, line, end_input);
}

std::string tcp_command(std::uint16_t port, const std::string& line) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  return exchange(fd, line, false);
}

std::string maintenance_line(const std::string& map) {
  return "http-request return status 503 content-type \"text/plain\" lf-string \"%[str(maintenance),map(" + map +
         ")]\" if { str(maintenance),map(" + map + ") -m found }";
}

}  // namespace

std::string HaproxyFixture::version() const { return pools::parse_version(command("show info")).text; }

bool HaproxyFixture::at_least(int major, int minor) const {
  return pools::parse_version(command("show info")).at_least(major, minor);
}

std::string haproxy_program() {
  const char* program = std::getenv("LBCTL_TEST_HAPROXY");
  return program != nullptr && *program != '\0' ? program : "haproxy";
}

std::uint64_t pid_in_show_info(const std::string& show_info) {
  std::istringstream lines(show_info);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("Pid: ", 0) == 0) return std::stoull(line.substr(5));
  }
  return 0;
}

HaproxyFixture::HaproxyFixture(HaproxyOptions options) : m_options(std::move(options)) {
  m_socket = (m_dir.path() / "admin.sock").string();
  m_master_socket = (m_dir.path() / "master.sock").string();
  m_admin_port = free_port();
  m_frontend_port = free_port();
  if (m_options.maintenance_map) {
    m_map_file = m_options.maintenance_map_file.empty() ? m_dir.path() / "maintenance.map"
                                                        : m_options.maintenance_map_file;
    if (!std::filesystem::exists(m_map_file)) std::ofstream(m_map_file).flush();
  }
  std::ostringstream cfg;
  cfg << "global\n"
      // expose-fd listeners: a reload hands the listening sockets to the new
      // worker (as configs/haproxy.cfg does), so no connection is reset.
      << "  stats socket " << m_socket << " mode 600 level admin"
      << (m_options.master_worker ? " expose-fd listeners" : "") << "\n"
      << "  stats socket ipv4@" << m_options.address << ":" << m_admin_port << " level admin\n";
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
      // As configs/haproxy.cfg: a killed server's requests and reused idle
      // connections are retried elsewhere.
      << "  retry-on conn-failure empty-response\n"
      << "frontend fe\n"
      << "  bind " << m_options.address << ":" << m_frontend_port << "\n";
  if (m_options.maintenance_map) cfg << "  " << maintenance_line(m_map_file.string()) << "\n";
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
  const std::string text = m_options.edit_config ? m_options.edit_config(cfg.str()) : cfg.str();
  m_config_file = m_dir.write("haproxy.cfg", text);
  start();
}

HaproxyFixture::~HaproxyFixture() { stop(); }

void HaproxyFixture::start() {
  std::vector<std::string> argv = m_options.launcher;
  argv.push_back(haproxy_program());
  if (m_options.master_worker) argv.insert(argv.end(), {"-W", "-S", m_master_socket});
  argv.insert(argv.end(), {"-db", "-f", m_config_file.string()});
  // The log is appended to: a restart's lines follow the first start's.
  m_process = std::make_unique<ChildProcess>(argv, m_dir.path() / "haproxy.log");
  const bool local = m_options.launcher.empty();
  const bool ready = eventually(
      [&] {
        return m_process->running() && command("show info").find("Name: HAProxy") != std::string::npos &&
               (!local || command_tcp("show info").find("Name: HAProxy") != std::string::npos);
      },
      10s);
  if (!ready || (local && !wait_for_port(m_frontend_port, 5s))) {
    throw std::runtime_error("haproxy did not start: " + read_file(m_dir.path() / "haproxy.log"));
  }
}

void HaproxyFixture::stop() {
  // SIGTERM to the master stops its workers (old ones included) too; the
  // process group is killed after it in any case.
  if (m_process) m_process->stop(2s);
  m_process.reset();
}

void HaproxyFixture::restart() {
  stop();
  start();
}

void HaproxyFixture::signal_all(int sig) {
  if (m_process) ::kill(-m_process->pid(), sig);
}

void HaproxyFixture::crash_and_restart() {
  signal_all(SIGKILL);
  if (m_process) m_process->stop(0ms);
  m_process.reset();
  start();
}

std::uint64_t HaproxyFixture::wait_for_new_worker(std::uint64_t before) {
  std::uint64_t now = 0;
  // Both sockets are the new worker's: the master hands the listeners over.
  const bool reloaded = eventually(
      [&] {
        now = pid_in_show_info(command("show info"));
        return now != 0 && now != before &&
               (!m_options.launcher.empty() || pid_in_show_info(command_tcp("show info")) == now);
      },
      10s);
  // The master re-executed itself and refuses its CLI's connections for a
  // while (~140 ms measured here): back once it lists the new worker.
  const bool master_back = reloaded && eventually(
      [&] {
        const auto workers = pids_in_show_proc(show_proc(), "# workers");
        return workers.size() == 1 && workers.front() == now;
      },
      10s);
  if (!reloaded || !master_back) {
    throw std::runtime_error("haproxy did not reload (worker " + std::to_string(before) +
                             "): " + read_file(m_dir.path() / "haproxy.log"));
  }
  return now;
}

std::uint64_t HaproxyFixture::reload() {
  if (!m_options.master_worker || !m_process) throw std::logic_error("reload() needs a running master-worker HAProxy");
  const auto before = worker_pid();
  m_process->signal(SIGUSR2);
  return wait_for_new_worker(before);
}

std::uint64_t HaproxyFixture::reload_via_master_cli() {
  if (!m_options.master_worker || !m_process) throw std::logic_error("reload() needs a running master-worker HAProxy");
  const auto before = worker_pid();
  master_command("reload");  // 2.6 answers nothing: the master re-executes itself
  return wait_for_new_worker(before);
}

std::string HaproxyFixture::command(const std::string& line) const { return unix_command(m_socket, line); }

std::string HaproxyFixture::command_tcp(const std::string& line) const { return tcp_command(m_admin_port, line); }

std::string HaproxyFixture::master_command(const std::string& line) const {
  return unix_command(m_master_socket, line, true);
}

std::uint64_t HaproxyFixture::worker_pid() const { return pid_in_show_info(command("show info")); }

std::vector<std::uint64_t> pids_in_show_proc(const std::string& show_proc, const std::string& section) {
  std::istringstream lines(show_proc);
  std::string line;
  std::vector<std::uint64_t> pids;
  bool in_section = false;
  while (std::getline(lines, line)) {
    if (line.rfind('#', 0) == 0) {
      in_section = line == section;
      continue;
    }
    if (in_section && !line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) {
      pids.push_back(std::stoull(line));
    }
  }
  return pids;
}

std::vector<std::uint64_t> HaproxyFixture::old_workers() const { return pids_in_show_proc(show_proc(), "# old workers"); }

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

std::string tls_cli_listen(const std::string& name, const std::filesystem::path& pem, const std::filesystem::path& ca,
                           std::uint16_t port, const std::string& socket, const std::string& address) {
  std::string text = read_file(std::filesystem::path(LBCTL_SOURCE_DIR) / "configs" / "haproxy-tls-cli.cfg");
  auto replace = [&text](const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) throw std::runtime_error("configs/haproxy-tls-cli.cfg no longer holds " + from);
    text.replace(at, from.size(), to);
  };
  replace("listen lbctl-cli", "listen " + name);
  replace("bind :9443", "bind " + address + ":" + std::to_string(port));
  replace("/etc/haproxy/lbctl-cli.pem", pem.string());
  replace("/etc/haproxy/lbctl-ca.crt", ca.string());
  replace("unix@/run/haproxy/admin.sock", "unix@" + socket);
  return text;
}

std::string stats_socket_of(const std::string& config) {
  const std::string key = "stats socket ";
  const auto at = config.find(key);
  if (at == std::string::npos) return {};
  const auto start = at + key.size();
  return config.substr(start, config.find_first_of(" \n", start) - start);
}

}  // namespace lbctl::test
