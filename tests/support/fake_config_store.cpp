#include "tests/support/fake_config_store.hpp"

namespace lbctl::test {

namespace asio = boost::asio;

std::string FakeConfigStore::text(const std::string& path) const {
  const auto it = m_files.find(path);
  return it == m_files.end() ? std::string() : it->second;
}

asio::awaitable<Result<std::string>> FakeConfigStore::read(std::string path) {
  const auto it = m_files.find(path);
  if (it == m_files.end()) co_return fail(ErrorKind::unreachable, "cannot read " + path + ": No such file or directory");
  co_return it->second;
}

asio::awaitable<Result<void>> FakeConfigStore::check(std::string path, std::string text) {
  if (m_has_check && !m_refuse.empty() && text.find(m_refuse) != std::string::npos) {
    co_return fail(ErrorKind::refused, path + ": the check `haproxy -c` refused the new file (exit 1): [ALERT] bad line");
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> FakeConfigStore::write(std::string path, std::string text, bool check_first) {
  if (check_first) {
    if (auto checked = co_await check(path, text); !checked) co_return checked;
  }
  m_files[path] = std::move(text);
  m_writes.push_back(path);
  co_return Result<void>{};
}

}  // namespace lbctl::test
