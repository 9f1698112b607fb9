#include "tests/support/fake_process_runner.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace lbctl::test {

boost::asio::awaitable<Result<ProcessResult>> FakeProcessRunner::run(ProcessSpec spec) {
  co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
  runs.push_back(spec);
  if (!spec.argv.empty() && m_timeouts.contains(spec.argv.front())) {
    co_return fail(ErrorKind::timeout, spec.argv.front() + " ran past its timeout");
  }
  const auto it = spec.argv.empty() ? m_scripts.end() : m_scripts.find(spec.argv.front());
  co_return it == m_scripts.end() ? ProcessResult{} : it->second;
}

std::vector<std::string> FakeProcessRunner::programs() const {
  std::vector<std::string> out;
  for (const auto& spec : runs) out.push_back(spec.argv.empty() ? "" : spec.argv.front());
  return out;
}

std::string FakeProcessRunner::env(std::size_t i, const std::string& name) const {
  if (i >= runs.size()) return {};
  for (const auto& [key, value] : runs[i].env) {
    if (key == name) return value;
  }
  return {};
}

}  // namespace lbctl::test
