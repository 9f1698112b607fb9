#include "tests/support/network_fault.hpp"

#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace lbctl::test {

using namespace std::chrono_literals;

namespace {

// A loopback address no other test process picks at the same time.
std::string own_loopback_address() {
  static int made = 0;
  const int n = (static_cast<int>(::getpid()) * 7 + made++) % 60000 + 1;
  return "127.77." + std::to_string(n / 250) + "." + std::to_string(n % 250 + 1);
}

}  // namespace

TcpRelay::TcpRelay(std::uint16_t target, const std::filesystem::path& log)
    : m_host(own_loopback_address()), m_port(free_port()), m_target(target), m_log(log) {
  restart();
}

void TcpRelay::restart() {
  m_process = std::make_unique<ChildProcess>(
      std::vector<std::string>{"socat", "TCP-LISTEN:" + std::to_string(m_port) + ",bind=" + m_host + ",reuseaddr,fork",
                               "TCP:127.0.0.1:" + std::to_string(m_target)},
      m_log);
  if (!eventually([&] { return run_command({"socat", "-u", "OPEN:/dev/null", "TCP:" + m_host + ":" + std::to_string(m_port)}, 5s).exit_code == 0; }, 10s)) {
    throw std::runtime_error("the relay did not listen on " + m_host + ":" + std::to_string(m_port));
  }
}

void TcpRelay::kill() {
  if (m_process) m_process->stop(0ms);
  m_process.reset();
}

namespace {

std::string tag() { return "lbctl-test-" + std::to_string(::getpid()); }

// The two rules: packets to host:port, and packets from it.
std::vector<std::vector<std::string>> rules(const std::string& host, std::uint16_t port, const std::string& action) {
  std::vector<std::vector<std::string>> out;
  out.push_back({"iptables", "-w", action, "INPUT", "-i", "lo", "-p", "tcp", "-d", host, "--dport", std::to_string(port),
                 "-m", "comment", "--comment", tag(), "-j", "DROP"});
  out.push_back({"iptables", "-w", action, "INPUT", "-i", "lo", "-p", "tcp", "-s", host, "--sport", std::to_string(port),
                 "-m", "comment", "--comment", tag(), "-j", "DROP"});
  return out;
}

}  // namespace

Partition::Partition(std::string host, std::uint16_t port) : m_host(std::move(host)), m_port(port) {
  for (const auto& rule : rules(m_host, m_port, "-I")) {
    const auto added = run_command(rule, 10s);
    if (added.exit_code != 0) {
      lift();
      throw std::runtime_error("iptables refused the partition: " + added.out);
    }
    m_on = true;
  }
}

Partition::~Partition() { lift(); }

void Partition::lift() {
  if (!m_on) return;
  for (const auto& rule : rules(m_host, m_port, "-D")) run_command(rule, 10s);
  m_on = false;
}

}  // namespace lbctl::test
