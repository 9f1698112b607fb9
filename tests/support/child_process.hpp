#pragma once
// A process a test started and owns: stopped (SIGTERM, then SIGKILL) when the
// object goes away, so no test leaves a server behind.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lbctl::test {

class ChildProcess {
 public:
  // Starts argv; stdout and stderr go to `log` (or are discarded when empty).
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;

  pid_t pid() const { return m_pid; }
  bool running();
  void signal(int sig);
  // Sends SIGTERM, waits up to `grace`, then SIGKILL; returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Waits for it to exit by itself; returns its exit code, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);

 private:
  pid_t m_pid = -1;
  int m_status = 0;
  bool m_reaped = false;
};

// The output of a command run to completion (no shell): exit code and stdout+stderr.
struct CommandOutput {
  int exit_code = -1;
  std::string out;
};
CommandOutput run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(120),
                          const std::vector<std::pair<std::string, std::string>>& env = {});

// A loopback TCP port nobody listens on right now.
std::uint16_t free_port();

// True once 127.0.0.1:port accepts a connection; polls until `timeout`.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);

// Polls `condition` every 20 ms until it holds or `timeout` passes.
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout = std::chrono::seconds(10));

bool eventually_impl(const std::function<bool()>& condition, std::chrono::milliseconds timeout);
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout) {
  return eventually_impl(std::function<bool()>(condition), timeout);
}

// The port of the first "http://127.0.0.1:PORT/" (or https) a process wrote
// to `log` (`lbctl serve --listen 127.0.0.1:0` says where it listens); 0
// when none came within `timeout`.
std::uint16_t printed_port(const std::filesystem::path& log, std::chrono::milliseconds timeout = std::chrono::seconds(30));

// One HTTP/1.0 GET to 127.0.0.1:port; returns the status code (0 when the
// connection fails) and the body.
struct HttpReply {
  int status = 0;
  std::string body;
  std::string headers;  // the header lines as sent, "Name: value\r\n" each
};
HttpReply http_get(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(5));
// Any method, with extra header lines ("Authorization: Bearer x") and a body.
HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& path,
                       const std::vector<std::string>& headers = {}, const std::string& body = "",
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace lbctl::test
