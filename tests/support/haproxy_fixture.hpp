#pragma once
// A real HAProxy (Debian 12's 2.6, or the program LBCTL_TEST_HAPROXY names:
// scripts/test's second pass runs Debian 13's 3.0 that way), started from a generated config on free loopback ports
// (a unix and a tcp admin socket), stopped when the fixture goes away.
// Optionally master-worker as Debian's unit runs it (`-W -S master.sock`),
// so a test can reload it (SIGUSR2 or the master CLI) or restart it from its
// (possibly rewritten) config file.

#include <cstdint>
#include <filesystem>
#include <functional>
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
  // `haproxy -W -db -S DIR/master.sock -f DIR/haproxy.cfg`: a master that
  // forks the worker, reloads on SIGUSR2 and answers its CLI on master.sock.
  bool master_worker = false;
  // The maintenance page of configs/haproxy.cfg: the frontend answers 503
  // with the map's value while the map holds the key `maintenance`. The map
  // file is created empty when it does not exist (several LBs may share one).
  bool maintenance_map = false;
  std::filesystem::path maintenance_map_file{};  // empty = DIR/maintenance.map
  // On a lab host: the argv prefix that runs HAProxy there (scripts/lab
  // exec LAB HOST) and the host's address its frontend and tcp admin socket
  // bind. The fixture then talks to it through the unix sockets only (their
  // paths reach across network namespaces).
  std::vector<std::string> launcher{};
  std::string address = "127.0.0.1";
  // Gets the generated config and returns the text written instead (comments,
  // tabs, CRLF, other sections...); HAProxy starts from what it returns.
  std::function<std::string(const std::string&)> edit_config{};
};

class HaproxyFixture {
 public:
  explicit HaproxyFixture(HaproxyOptions options = {});
  ~HaproxyFixture();

  std::string runtime_api_unix() const { return "unix:" + m_socket; }
  std::string runtime_api_tcp() const { return "tcp:" + m_options.address + ":" + std::to_string(m_admin_port); }
  const std::string& address() const { return m_options.address; }
  const std::string& socket_path() const { return m_socket; }
  std::uint16_t frontend_port() const { return m_frontend_port; }
  std::uint16_t admin_port() const { return m_admin_port; }
  const std::string& backend() const { return m_options.backend; }
  const std::filesystem::path& dir() const { return m_dir.path(); }
  // The file HAProxy reads at start and on every reload.
  const std::filesystem::path& config_file() const { return m_config_file; }
  // The maintenance map file (empty path without HaproxyOptions::maintenance_map).
  const std::filesystem::path& maintenance_map() const { return m_map_file; }
  bool master_worker() const { return m_options.master_worker; }
  // The master CLI (only with master_worker): "unix:DIR/master.sock".
  std::string master_api() const { return "unix:" + m_master_socket; }
  const std::string& master_socket_path() const { return m_master_socket; }

  // Sends one line to the unix admin socket (independent of lbctl's client)
  // and returns HAProxy's answer ("" when it cannot connect).
  std::string command(const std::string& line) const;
  // The same through the tcp admin socket.
  std::string command_tcp(const std::string& line) const;
  // One line to the master CLI ("@!PID show stat" reaches one worker).
  std::string master_command(const std::string& line) const;
  // The master CLI's `show proc`: the master, the current worker and, under
  // "# old workers", those a reload left serving their sessions.
  std::string show_proc() const { return master_command("show proc"); }
  // The pids listed under "# old workers" in show proc.
  std::vector<std::uint64_t> old_workers() const;
  // The Pid `show info` reports on the unix socket (0 when it does not answer).
  std::uint64_t worker_pid() const;
  // The Version `show info` reports ("2.6.12-1+deb12u2", "3.0.11-1+deb13u4").
  std::string version() const;
  // The HAProxy branch answering: true from major.minor on.
  bool at_least(int major, int minor) const;

  // The `status` column of show stat for one server ("" when absent).
  std::string status(const std::string& server) const;
  // Every server name in the backend, in show stat order.
  std::vector<std::string> servers() const;
  // One field of show stat by header name ("" when absent).
  std::string stat_field(const std::string& server, const std::string& field) const;

  // Reloads as `systemctl reload` does (SIGUSR2 to the master) and returns the
  // new worker's pid once both admin sockets answer with it and the master
  // CLI lists it as the worker. Throws when no
  // new worker comes within 10 s (e.g. the file no longer loads: the master
  // keeps the old worker). Needs master_worker.
  std::uint64_t reload();
  // The same through the master CLI's `reload` command.
  std::uint64_t reload_via_master_cli();
  // Stops the whole HAProxy and starts it again from config_file(); returns
  // once it answers on both admin sockets and the frontend port. Throws when
  // it does not start.
  void restart();
  void stop();
  // A signal to every HAProxy process (master and workers): SIGSTOP freezes
  // it as a hung host would, SIGCONT thaws it.
  void signal_all(int sig);
  // Killed with SIGKILL (no goodbye to anyone), then started again from
  // config_file() (what persist left there). Returns once it answers.
  void crash_and_restart();

 private:
  void start();
  std::uint64_t wait_for_new_worker(std::uint64_t before);

  HaproxyOptions m_options;
  TempDir m_dir;
  std::string m_socket;
  std::string m_master_socket;
  std::filesystem::path m_config_file;
  std::filesystem::path m_map_file;
  std::uint16_t m_admin_port = 0;
  std::uint16_t m_frontend_port = 0;
  std::unique_ptr<ChildProcess> m_process;
};

// The HAProxy the tests run: $LBCTL_TEST_HAPROXY when set (a path, e.g. the
// 3.0 that scripts/haproxy-of makes), else `haproxy` from PATH. Every test
// that starts HAProxy or runs `haproxy -c` takes it from here.
std::string haproxy_program();

// configs/haproxy-tls-cli.cfg, the listen section that puts mutual TLS in
// front of a local socket, with a test's files: its name, the LB's
// certificate and key (`pem`), the CA client certificates must chain to,
// the port it binds (on `address`), and the socket it joins.
std::string tls_cli_listen(const std::string& name, const std::filesystem::path& pem, const std::filesystem::path& ca,
                           std::uint16_t port, const std::string& socket, const std::string& address = "127.0.0.1");
// The admin socket a generated config names (its `stats socket PATH` line).
std::string stats_socket_of(const std::string& config);

// The Pid line of a `show info` answer (0 when absent).
std::uint64_t pid_in_show_info(const std::string& show_info);
// The pids the master CLI's `show proc` lists under `section` ("# workers",
// "# old workers").
std::vector<std::uint64_t> pids_in_show_proc(const std::string& show_proc, const std::string& section);

}  // namespace lbctl::test
