#include "tests/support/network_fault.hpp"

#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace lbctl::test {

using namespace std::chrono_literals;

TcpRelay::TcpRelay(std::uint16_t target, const std::filesystem::path& log) : m_port(free_port()) {
  m_process = std::make_unique<ChildProcess>(
      std::vector<std::string>{"socat", "TCP-LISTEN:" + std::to_string(m_port) + ",bind=127.0.0.1,reuseaddr,fork",
                               "TCP:127.0.0.1:" + std::to_string(target)},
      log);
  if (!wait_for_port(m_port, 10s)) throw std::runtime_error("the relay did not listen on " + std::to_string(m_port));
}

void TcpRelay::kill() {
  if (m_process) m_process->stop(0ms);
  m_process.reset();
}

namespace {

std::string tag() { return "lbctl-test-" + std::to_string(::getpid()); }

// The two rules: packets to the port, and packets from it.
std::vector<std::vector<std::string>> rules(std::uint16_t port, const std::string& action) {
  std::vector<std::vector<std::string>> out;
  for (const char* way : {"--dport", "--sport"}) {
    out.push_back({"iptables", "-w", action, "INPUT", "-i", "lo", "-p", "tcp", way, std::to_string(port), "-m", "comment",
                   "--comment", tag(), "-j", "DROP"});
  }
  return out;
}

}  // namespace

Partition::Partition(std::uint16_t port) : m_port(port) {
  for (const auto& rule : rules(m_port, "-I")) {
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
  for (const auto& rule : rules(m_port, "-D")) run_command(rule, 10s);
  m_on = false;
}

}  // namespace lbctl::test
