#pragma once
// Everything a real cutover touches, on loopback, in temp dirs: a Postgres
// (state and app databases), HAProxy instances, old app servers in the local
// provider's layout, a config file, and helpers to run the lbctl binary,
// put load through the LBs and sample what HAProxy reports.

#include <atomic>
#include <sstream>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/lab.hpp"
#include "tests/support/sshd_fixture.hpp"
#include "tests/support/test_certificates.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace lbctl::test {

// What fleet_view() shows of the default stack's two LBs before a cutover
// and after one that completed.
inline const std::vector<std::string> k_original_view{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"};
inline const std::vector<std::string> k_done_view{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"};

struct StackOptions {
  std::size_t lbs = 2;
  std::size_t old_servers = 2;
  std::string server_options = "check inter 200ms fall 2 rise 2";
  std::string new_pool_cookie;  // new_pool.cookie ("" = not given)
  bool migrations = true;
  // Extra lines appended to the config (YAML at top level), e.g. "drain:\n  ...".
  std::string extra_config;
  // Arguments added to the new servers' command (e.g. a health file that is not served).
  std::vector<std::string> new_server_args;
  // Arguments added to the old servers' command (e.g. --delay-ms 20).
  std::vector<std::string> old_server_args;
  // Each LB gets `persist: {file: <its haproxy.cfg>, check: persist_check}`
  // (no `check` when persist_check is empty).
  bool persist = false;
  std::vector<std::string> persist_check{haproxy_program(), "-c", "-f", "{file}"};
  // HAProxy as Debian's unit runs it (master CLI, SIGUSR2 reloads), and
  // `master_api:` for each LB in the config.
  bool master_worker = false;
  // The maintenance page: one map file every LB loads (as each LB host has
  // the same path), `maintenance: {map: ...}` in the config.
  bool maintenance = false;
  // Postgres also listens on 127.0.0.1 (postgres().tcp_port()).
  bool postgres_tcp = false;
  // More variables for every lbctl the stack runs (e.g. PGPASSWORD).
  std::vector<std::pair<std::string, std::string>> env;
  // Edits LB i's generated haproxy.cfg before HAProxy starts from it.
  std::function<std::string(std::size_t, const std::string&)> edit_lb_config;
  // The LBs as if on other hosts: lb1 over ssh:// (a real sshd on loopback;
  // persist read and write over ssh too), lb2 over tls:// (the listen section
  // of configs/haproxy-tls-cli.cfg in front of its socket, and of its master
  // CLI with master_worker). Needs lbs == 2.
  bool remote_lbs = false;
  // Every host of its own, on the lab's network (tests/support/lab.hpp):
  // "deploy" runs lbctl, the app servers (old, and new from the local
  // provider, on the deploy host's address) and wrk; "lb1" HAProxy and sshd
  // (reached over ssh), "lb2" HAProxy behind its TLS listen sections. Implies
  // remote_lbs. The databases stay on this host's unix sockets.
  bool lab = false;
  // With the lab, the app servers and Postgres on hosts of their own: "app1"
  // and "app2" run the old servers, "app3" and "app4" are the spare hosts
  // the exec provider of configs/app-hosts clones new ones onto over ssh
  // (an sshd on each app host, its connections shared); "db" runs Postgres,
  // which lbctl and the servers reach over TCP. The LBs retry a request a
  // dead server did not answer on another (retry-on, redispatch).
  // old_server_args and new_server_args do not apply. Implies lab.
  bool app_hosts = false;
};

struct LbctlRun {
  int exit_code = -1;
  std::string out;
};

class Stack {
 public:
  explicit Stack(StackOptions options = {});
  ~Stack();

  const std::filesystem::path& config_file() const { return m_config_file; }
  HaproxyFixture& lb(std::size_t i) { return *m_lbs.at(i); }
  // With StackOptions::lab: the lab (its hosts' cables and firewalls).
  Lab& lab() { return *m_lab; }
  // With remote_lbs: lb2's TLS listen section (its port), and the CA that
  // signs both ends' certificates.
  std::uint16_t tls_port() const { return m_tls_port; }
  const TestCertificates& certificates() const { return *m_certs; }
  // The argv prefix that runs a client where lbctl runs (empty: this host).
  std::vector<std::string> client_launcher() const;
  std::size_t lb_count() const { return m_lbs.size(); }
  PostgresFixture& postgres() { return m_postgres; }
  std::filesystem::path base_dir() const { return m_dir.path() / "servers"; }
  std::vector<std::string> old_names() const;
  // The maintenance map every LB loads (empty path without StackOptions::maintenance).
  std::filesystem::path maintenance_map() const;

  // Runs `lbctl ARGS... -c CONFIG` (the environment carries the database URLs).
  LbctlRun lbctl(std::vector<std::string> args, std::chrono::milliseconds timeout = std::chrono::minutes(3));
  // Starts lbctl in the background (to kill it, or run a second one meanwhile).
  std::unique_ptr<ChildProcess> start_lbctl(std::vector<std::string> args, const std::filesystem::path& log);
  std::vector<std::pair<std::string, std::string>> env() const;
  // The state database's URL lbctl is given from now on (a relay's, say).
  void set_state_url(std::string url) { m_state_url = std::move(url); }

  // "lb1 v2-1 UP" for every server of every LB.
  std::vector<std::string> fleet_view();
  // Kills old-N (1-based) as a crash would: its files stay, its port closes.
  void crash_old_server(std::size_t n);
  // Kills the server whose pid is in base_dir/NAME/pid (a new server the
  // local provider started) with SIGKILL, as a crash would.
  void crash_server(const std::string& name);
  // True when a process in base_dir/NAME/pid is alive.
  bool server_running(const std::string& name) const;
  // With app_hosts: the app host a server runs on ("" when none), and the
  // sshd of app host `host` (its logins and sessions).
  std::string app_host_of(const std::string& name) const;
  SshdFixture& app_sshd(const std::string& host) { return *m_app_sshd.at(host); }
  // A column of the app database's table `orders`, or "" when absent.
  bool orders_has_column(const std::string& column);

 private:
  void write_config();
  void write_remote_lb(std::ostringstream& yaml, std::size_t i);
  // app_hosts (stack_app_hosts.cpp): the settings every app host's
  // lbctl-app-host gets, its sshd, an old server started there, the
  // provider's config, and a server's folder wherever it runs.
  std::vector<std::pair<std::string, std::string>> app_host_settings(const std::string& host) const;
  void start_app_host_sshds();
  std::string start_on_app_host(const std::string& name, const std::string& host);
  void write_app_hosts_provider(std::ostringstream& yaml);
  std::filesystem::path server_dir(const std::string& name) const;
  std::string database_url(const std::string& dbname) const;

  StackOptions m_options;
  std::unique_ptr<Lab> m_lab;  // first: the last thing removed
  TempDir m_dir;
  PostgresFixture m_postgres;
  std::vector<std::unique_ptr<ChildProcess>> m_old_servers;
  std::vector<std::unique_ptr<HaproxyFixture>> m_lbs;
  std::filesystem::path m_config_file;
  // remote_lbs: the sshd lb1 is reached through, and lb2's TLS listeners.
  std::unique_ptr<SshdFixture> m_sshd;
  std::unique_ptr<TestCertificates> m_certs;
  std::uint16_t m_tls_port = 0;
  std::uint16_t m_tls_master_port = 0;
  std::map<std::string, std::unique_ptr<SshdFixture>> m_app_sshd;
  std::string m_state_url;  // "" = Postgres' socket
};

// wrk through an LB for the length of a test; stop() returns what failed.
class Load {
 public:
  explicit Load(std::uint16_t port, const std::filesystem::path& log, int connections = 4);
  // wrk to HOST:PORT, run through `launcher` (a lab host).
  Load(const std::string& host, std::uint16_t port, const std::filesystem::path& log,
       const std::vector<std::string>& launcher, int connections = 4);
  ~Load();
  struct Result {
    long requests = 0;
    long non_2xx = 0;
    long socket_errors = 0;
    std::string text;
  };
  Result stop();

 private:
  std::unique_ptr<ChildProcess> m_wrk;
  std::filesystem::path m_log;
};

// Samples, every 50 ms on a thread, the number of servers UP in each LB's
// backend, and keeps the lowest seen.
class UpSampler {
 public:
  explicit UpSampler(Stack& stack);
  ~UpSampler();
  std::size_t stop();  // the lowest count seen on any LB
  std::size_t samples() const { return m_samples; }

 private:
  Stack& m_stack;
  std::atomic<bool> m_running{true};
  std::atomic<std::size_t> m_lowest{1000};
  std::atomic<std::size_t> m_samples{0};
  std::thread m_thread;
};

}  // namespace lbctl::test
