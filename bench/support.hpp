#pragma once
// What the benchmarks share: a real fleet to run `lbctl cutover` on
// (Postgres for the journal, HAProxy load balancers, and a "farm" HAProxy
// whose monitor-uri frontends stand in for many fast app servers), timing of
// the lbctl process, the journal's events, and the report every benchmark
// prints: one line per figure (name, value, unit, goal), plus JSON.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/lab.hpp"
#include "tests/support/sshd_fixture.hpp"
#include "tests/support/test_certificates.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace lbctl::bench {

struct Figure {
  std::string name;
  double value = 0;
  std::string unit;
  std::string goal;  // "<= 0.6", ">= 20", or "" (context only)
  bool met = true;
};

// Prints the figures and writes {"benchmark", "figures", ...extra} to
// `json_path` (when given). Returns 0; a missed goal is printed, not fatal:
// these are benchmarks, not tests.
int report(const std::string& benchmark, const std::vector<Figure>& figures, const std::string& json_path,
           nlohmann::json extra = nlohmann::json::object());

// Runs a benchmark's body and returns its exit status; what it throws is
// printed and exits 1, after everything it started has stopped (the
// fixtures' destructors run as the exception unwinds: an uncaught one would
// leave Postgres and HAProxy running).
int guarded_main(const char* name, const std::function<int()>& body);

// "--name value" pairs.
std::map<std::string, std::string> parse_args(int argc, char** argv);
int int_arg(const std::map<std::string, std::string>& args, const std::string& name, int fallback);

struct FleetOptions {
  std::size_t lbs = 2;
  std::size_t old_servers = 20;
  std::size_t new_servers = 20;
  std::size_t listeners = 0;  // farm ports; 0 = one per server (old and new)
  std::string server_options = "check inter 100ms fall 2 rise 2";
  std::string health_interval = "100ms";
  int health_rise = 2;
  std::string drain_method = "haproxy";
  std::string drain_poll = "100ms";
  std::string provider = "static";  // or "local" (lbctl-app processes)
  std::string extra_config;
  // Old servers are real app servers (lbctl-app, which can hold a request
  // open) instead of farm listeners.
  bool old_apps = false;
  // New servers are also declared in haproxy.cfg, `disabled` (what the
  // Ansible module needs: it cannot add servers).
  bool new_in_config = false;
  // Each LB's haproxy.cfg is persisted (persist.file): lbctl rewrites its
  // server lines after every batch. No check command: its CPU would count
  // as lbctl's (a child process).
  bool persist = false;
  // Postgres also listens on 127.0.0.1 (postgres().tcp_port()).
  bool postgres_tcp = false;
  // How lbctl reaches each LB: "unix" (its socket), "ssh" (sshd on loopback,
  // socat to the socket), "tls" (the listen section of
  // configs/haproxy-tls-cli.cfg in front of the socket).
  std::string transport = "unix";
  // Every part on a host of its own, in a lab of network namespaces
  // (scripts/lab, as the tests build it): lbctl on "deploy", each LB on
  // "lbN" (with its sshd for ssh, its TLS listen section for tls), the farm
  // and app servers on "apps"; the journal's Postgres stays on this host's
  // socket. Needs root (test::lab_available()).
  bool lab = false;
};

struct LbctlResult {
  int exit_code = -1;
  std::string out;
  double wall_s = 0;
  double cpu_s = 0;        // user + kernel CPU time (with measure_resources)
  double max_rss_mib = 0;  // peak resident set (with measure_resources)
};

struct JournalEvent {
  double at_s = 0;  // seconds since the epoch
  std::string step;
  std::string kind;
};

class BenchFleet {
 public:
  explicit BenchFleet(FleetOptions options);
  ~BenchFleet();

  const std::filesystem::path& config() const { return m_config; }
  test::HaproxyFixture& lb(std::size_t i) { return *m_lbs.at(i); }
  test::PostgresFixture& postgres() { return m_postgres; }
  const std::vector<std::string>& old_addresses() const { return m_old_addresses; }
  std::size_t lb_count() const { return m_lbs.size(); }

  // Runs `lbctl ARGS -c CONFIG`; with measure_resources, under /usr/bin/time -v.
  LbctlResult lbctl(std::vector<std::string> args, bool measure_resources = false);
  // Starts `lbctl ARGS -c CONFIG` in the background, its output to `log`,
  // the state database reached at `state_url` ("" = Postgres' socket).
  std::unique_ptr<test::ChildProcess> start_lbctl(std::vector<std::string> args, const std::filesystem::path& log,
                                                  const std::string& state_url = "");
  // The journal's events of a cutover, oldest first.
  std::vector<JournalEvent> events(std::int64_t cutover_id);
  // When a step started (seconds since the epoch), from the journal; 0 if never.
  double step_started(std::int64_t cutover_id, const std::string& step);

 private:
  // The address app servers and the farm listen on, and the argv prefix
  // that runs a program on `host` (empty: this host).
  std::string address_of(const std::string& host) const;
  std::vector<std::string> on(const std::string& host) const;
  void start_farm(const std::vector<std::uint16_t>& ports, std::size_t maxconn);
  void wait_listening(const std::string& host, const std::vector<std::uint16_t>& ports) const;

  FleetOptions m_options;
  std::unique_ptr<test::Lab> m_lab;  // first: the last thing removed
  test::TempDir m_dir;
  test::PostgresFixture m_postgres;
  std::unique_ptr<test::ChildProcess> m_farm;
  std::vector<std::unique_ptr<test::ChildProcess>> m_apps;
  std::vector<std::string> m_old_addresses;
  std::vector<std::string> m_new_addresses;
  std::vector<std::unique_ptr<test::HaproxyFixture>> m_lbs;
  std::vector<std::unique_ptr<test::SshdFixture>> m_sshds;  // one per LB host (one for all on loopback)
  std::unique_ptr<test::TestCertificates> m_certs;
  std::vector<std::uint16_t> m_tls_ports;
  std::filesystem::path m_config;
};

std::string lbctl_binary();

// CPU seconds (user + system) used so far by the running processes named
// `comm` (/proc/PID/stat), children that exited not counted: the HAProxy
// processes' share of a run is the difference of two readings.
double cpu_of_processes_named(const std::string& comm);

}  // namespace lbctl::bench
