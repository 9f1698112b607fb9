#include "tests/support/lab.hpp"

#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "tests/support/child_process.hpp"

namespace lbctl::test {

namespace {

std::string script() { return std::string(LBCTL_SOURCE_DIR) + "/scripts/lab"; }

}  // namespace

bool lab_available() { return ::geteuid() == 0 && run_command({"ip", "netns", "list"}).exit_code == 0; }

Lab::Lab(const std::vector<std::string>& hosts) : m_name("t" + std::to_string(::getpid())) {
  run_command({script(), "down", m_name});  // a lab a killed run of this pid left
  std::vector<std::string> argv{script(), "up", m_name};
  argv.insert(argv.end(), hosts.begin(), hosts.end());
  const auto made = run_command(argv);
  if (made.exit_code != 0) {
    run_command({script(), "down", m_name});
    throw std::runtime_error("scripts/lab up failed: " + made.out);
  }
  std::istringstream lines(made.out);
  std::string host, address;
  while (lines >> host >> address) m_addresses[host] = address;
  if (m_addresses.size() != hosts.size()) throw std::runtime_error("scripts/lab up printed: " + made.out);
}

Lab::~Lab() { run_command({script(), "down", m_name}); }

std::vector<std::string> Lab::on(const std::string& host) const {
  if (!m_addresses.contains(host)) throw std::runtime_error("no host " + host + " in the lab");
  return {script(), "exec", m_name, host};
}

void Lab::lab(std::vector<std::string> args) const {
  args.insert(args.begin(), {script()});
  const auto done = run_command(args);
  if (done.exit_code != 0) throw std::runtime_error("scripts/lab failed: " + done.out);
}

void Lab::link(const std::string& host, bool up) { lab({"link", m_name, host, up ? "up" : "down"}); }

void Lab::partition(const std::string& host, bool on) { lab({"partition", m_name, host, on ? "on" : "off"}); }

}  // namespace lbctl::test
