#pragma once
// A real HAProxy 2.6, started from a generated config on free loopback ports
// (a unix and a tcp admin socket), stopped when the fixture goes away.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lbctl::test {

struct BackendServer {
  std::string name;
  std::string address;  // 127.0.0.1:PORT
  std::string options;  // empty = HaproxyOptions::server_options
};

struct HaproxyOptions {
  std::string backend = "app";
  std::vector<BackendServer> servers{};
  std::string server_options = "check inter 200ms fall 2 rise 2";
  std::string health_path = "/health-check.html";
  bool disable_on_404 = true;
  std::string balance = "roundrobin";
  std::vector<std::string> extra_global{};    // lines added to `global`
  std::vector<std::string> extra_frontend{};  // lines added to the frontend
  std::vector<std::string> extra_backend{};   // lines added to the backend
};

class HaproxyFixture {
 public:
  explicit HaproxyFixture(HaproxyOptions options = {});
  ~HaproxyFixture();

  std::string runtime_api_unix() const { return "unix:" + m_socket; }
  std::string runtime_api_tcp() const { return "tcp:127.0.0.1:" + std::to_string(m_admin_port); }
  const std::string& socket_path() const { return m_socket; }
  std::uint16_t frontend_port() const { return m_frontend_port; }
  std::uint16_t admin_port() const { return m_admin_port; }
  const std::string& backend() const { return m_options.backend; }
  const std::filesystem::path& dir() const { return m_dir.path(); }

  // Sends one line to the unix admin socket (independent of lbctl's client)
  // and returns HAProxy's answer.
  std::string command(const std::string& line) const;
  // The `status` column of show stat for one server ("" when absent).
  std::string status(const std::string& server) const;
  // Every server name in the backend, in show stat order.
  std::vector<std::string> servers() const;
  // One field of show stat by header name ("" when absent).
  std::string stat_field(const std::string& server, const std::string& field) const;

  void stop();

 private:
  HaproxyOptions m_options;
  TempDir m_dir;
  std::string m_socket;
  std::uint16_t m_admin_port = 0;
  std::uint16_t m_frontend_port = 0;
  std::unique_ptr<ChildProcess> m_process;
};

}  // namespace lbctl::test
