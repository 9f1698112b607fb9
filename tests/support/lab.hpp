#pragma once
// A multi-host lab for a test: scripts/lab (the one place that builds it,
// for tests, the bench and people) makes each host a network namespace on
// a switch of its own; the lab is removed, with whatever still runs in it,
// when the object goes. Faults: a host's cable pulled (link down), or every
// packet to and from it dropped (iptables, no reset).

#include <map>
#include <string>
#include <vector>

namespace lbctl::test {

class Lab {
 public:
  explicit Lab(const std::vector<std::string>& hosts);
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const std::string& name() const { return m_name; }
  const std::string& address(const std::string& host) const { return m_addresses.at(host); }
  // The argv prefix that runs a program on `host`.
  std::vector<std::string> on(const std::string& host) const;
  void link(const std::string& host, bool up);
  void partition(const std::string& host, bool on);

 private:
  void lab(std::vector<std::string> args) const;

  std::string m_name;
  std::map<std::string, std::string> m_addresses;
};

// True when this machine can build a lab (root, ip).
bool lab_available();

}  // namespace lbctl::test
