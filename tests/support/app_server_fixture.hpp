#pragma once
// A real lbctl-app on a free loopback port, with its own directory and health
// file, stopped when the fixture goes away.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lbctl::test {

struct AppServerOptions {
  std::string name = "app";
  std::string version = "v1";
  unsigned status = 200;                  // --status: the answer on every other path
  std::string database_url{};             // --db; empty = none
  std::filesystem::path dir{};            // empty = a directory of its own
  std::string health_file = "health-check.html";
  bool create_health_file = true;
  std::string health_content = "OK\n";
  std::uint16_t port = 0;                 // 0 = a free port
  std::vector<std::string> extra_args{};
};

class AppServerFixture {
 public:
  // Starts the server and returns once it answers; throws when it does not.
  explicit AppServerFixture(AppServerOptions options = {});
  ~AppServerFixture();
  AppServerFixture(const AppServerFixture&) = delete;
  AppServerFixture& operator=(const AppServerFixture&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }
  const std::filesystem::path& dir() const { return m_dir; }
  std::filesystem::path health_file() const { return m_dir / m_options.health_file; }
  const std::string& name() const { return m_options.name; }

  // How lbctl drains a server: the next health check answers 404.
  void remove_health_file();
  void restore_health_file();

  bool running();
  pid_t pid() const;
  void signal(int sig);
  // Waits for the server to exit by itself; its exit code, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit status (idempotent).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(12));
  // Everything it printed (stdout and stderr).
  std::string log() const;

 private:
  AppServerOptions m_options;
  TempDir m_temp;
  std::filesystem::path m_dir;
  std::uint16_t m_port = 0;
  std::optional<ChildProcess> m_process;
  std::optional<int> m_exit_status;
};

// The argv that starts lbctl-app with these options on `port` in `dir`.
std::vector<std::string> app_server_argv(const AppServerOptions& options, std::uint16_t port, const std::filesystem::path& dir);

}  // namespace lbctl::test
