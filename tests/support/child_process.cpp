#include "tests/support/child_process.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <regex>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace lbctl::test {

using namespace std::chrono_literals;

namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log, int out_fd,
            const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Overrides replace inherited values (getenv takes the first match).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    const bool overridden = std::any_of(env.begin(), env.end(), [&](const auto& kv) {
      return entry.size() > kv.first.size() && entry.starts_with(kv.first) && entry[kv.first.size()] == '=';
    });
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
  } else {
    const std::string target = log.empty() ? std::string("/dev/null") : log.string();
    posix_spawn_file_actions_addopen(&actions, 1, target.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log)
    : m_pid(spawn(argv, log, -1, {})) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)), m_status(other.m_status), m_reaped(other.m_reaped) {}

ChildProcess::~ChildProcess() {
  if (m_pid > 0) stop(2s);
}

bool ChildProcess::running() {
  if (m_pid <= 0 || m_reaped) return false;
  if (::waitpid(m_pid, &m_status, WNOHANG) == m_pid) {
    m_reaped = true;
    return false;
  }
  return true;
}

void ChildProcess::signal(int sig) {
  if (running()) ::kill(m_pid, sig);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(5ms);
  }
  if (WIFEXITED(m_status)) return WEXITSTATUS(m_status);
  if (WIFSIGNALED(m_status)) return 128 + WTERMSIG(m_status);
  return -1;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (m_pid <= 0) return -1;
  if (running()) {
    ::kill(m_pid, SIGTERM);
    if (wait(grace) < 0) {
      ::kill(-m_pid, SIGKILL);
      ::kill(m_pid, SIGKILL);
      wait(5s);
    }
  }
  // Anything it started in its process group goes too.
  ::kill(-m_pid, SIGKILL);
  m_pid = -1;
  if (WIFEXITED(m_status)) return WEXITSTATUS(m_status);
  if (WIFSIGNALED(m_status)) return 128 + WTERMSIG(m_status);
  return -1;
}

CommandOutput run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::vector<std::pair<std::string, std::string>>& env) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = spawn(argv, {}, fds[1], env);
  ::close(fds[1]);
  CommandOutput result;
  const auto end = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(-pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    result.out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  return result;
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
  return eventually_impl(
      [port] {
        const int fd = connect_loopback(port);
        if (fd < 0) return false;
        ::close(fd);
        return true;
      },
      timeout);
}

bool eventually_impl(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(20ms);
  }
}

HttpReply http_get(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  return http_request(port, "GET", path, {}, "", timeout);
}

std::uint16_t printed_port(const std::filesystem::path& log, std::chrono::milliseconds timeout) {
  std::uint16_t port = 0;
  static const std::regex url(R"(https?://127\.0\.0\.1:([0-9]+)/)");
  eventually(
      [&] {
        std::smatch m;
        std::ifstream in(log);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (std::regex_search(text, m, url)) port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
        return port != 0;
      },
      timeout);
  return port;
}

HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& path,
                       const std::vector<std::string>& headers, const std::string& body,
                       std::chrono::milliseconds timeout) {
  HttpReply reply;
  const int fd = connect_loopback(port);
  if (fd < 0) return reply;
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& header : headers) request += header + "\r\n";
  if (!body.empty() || method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return reply;
  }
  std::string response;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    // A signal (SIGCHLD, when a test's child process ends) is not the end of the answer.
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (response.rfind("HTTP/", 0) != 0 || response.size() < 12) return reply;
  reply.status = std::stoi(response.substr(9, 3));
  const auto header_end = response.find("\r\n\r\n");
  if (header_end != std::string::npos) {
    const auto first_line_end = response.find("\r\n");
    reply.headers = response.substr(first_line_end + 2, header_end + 2 - (first_line_end + 2));
    reply.body = response.substr(header_end + 4);
  }
  return reply;
}

}  // namespace lbctl::test
