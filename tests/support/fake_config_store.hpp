#pragma once
// Configuration files in memory, behind the ConfigStore interface: records
// every write, and can refuse the check the way a failing `haproxy -c` does.

#include <map>
#include <string>
#include <vector>

#include "pools/config_store.hpp"

namespace lbctl::test {

class FakeConfigStore final : public pools::ConfigStore {
 public:
  void put(const std::string& path, std::string text) { m_files[path] = std::move(text); }
  std::string text(const std::string& path) const;
  // The check refuses every text holding `needle` (empty: accepts all).
  void refuse_when(std::string needle) { m_refuse = std::move(needle); }
  void set_has_check(bool has) { m_has_check = has; }

  boost::asio::awaitable<Result<std::string>> read(std::string path) override;
  boost::asio::awaitable<Result<void>> write(std::string path, std::string text, bool check_first) override;
  boost::asio::awaitable<Result<void>> check(std::string path, std::string text) override;
  bool has_check() const override { return m_has_check; }
  std::string describe(const std::string& path) const override { return path; }

  // Paths written, in order (one per write).
  const std::vector<std::string>& writes() const { return m_writes; }

 private:
  std::map<std::string, std::string> m_files;
  std::vector<std::string> m_writes;
  std::string m_refuse;
  bool m_has_check = true;
};

}  // namespace lbctl::test
