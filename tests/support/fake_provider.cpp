#include "tests/support/fake_provider.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stdexcept>

namespace lbctl::test {

namespace asio = boost::asio;

void FakeProvider::add_server(const std::string& name, const std::string& address) {
  m_running[name] = address;
  m_health_files.insert(name);
}

void FakeProvider::fail_next(const std::string& operation, const std::string& server, Error error, int times) {
  m_failures.push_back(ScriptedFailure{operation, server, std::move(error), times});
}

void FakeProvider::set_delay(const std::string& operation, std::chrono::milliseconds delay) {
  if (!m_clock) throw std::logic_error("FakeProvider::set_delay needs a clock");
  m_delays[operation] = delay;
}

std::vector<std::string> FakeProvider::running_servers() const {
  std::vector<std::string> names;
  for (const auto& [name, address] : m_running) names.push_back(name);
  return names;
}

std::optional<std::string> FakeProvider::address(const std::string& name) const {
  const auto it = m_running.find(name);
  if (it == m_running.end()) return std::nullopt;
  return it->second;
}

std::optional<Error> FakeProvider::take_failure(const std::string& operation, const std::string& server) {
  for (auto it = m_failures.begin(); it != m_failures.end(); ++it) {
    if (it->operation != operation || (!it->server.empty() && it->server != server)) continue;
    Error error = it->error;
    if (it->remaining != k_always && --it->remaining <= 0) m_failures.erase(it);
    return error;
  }
  return std::nullopt;
}

asio::awaitable<void> FakeProvider::delay(std::string operation) {
  const auto it = m_delays.find(operation);
  if (it != m_delays.end() && m_clock) co_await m_clock->sleep_for(it->second);
}

asio::awaitable<Result<std::vector<pools::Server>>> FakeProvider::clone(std::vector<std::string> names,
                                                                        std::optional<pools::Server> template_server) {
  m_calls.push_back(fmt::format("clone {}", fmt::join(names, ",")));
  m_last_template = template_server;
  co_await delay("clone");
  std::vector<pools::Server> servers;
  for (const auto& name : names) {
    if (auto error = take_failure("clone", name)) co_return std::unexpected(*error);
    auto it = m_running.find(name);
    if (it == m_running.end()) {
      it = m_running.emplace(name, fmt::format("127.0.0.1:{}", 9100 + m_created++)).first;
      m_health_files.insert(name);
    }
    servers.push_back(pools::Server{name, it->second});
  }
  co_return servers;
}

asio::awaitable<Result<void>> FakeProvider::terminate(pools::Server server) {
  m_calls.push_back("terminate " + server.name);
  co_await delay("terminate");
  if (auto error = take_failure("terminate", server.name)) co_return std::unexpected(*error);
  m_running.erase(server.name);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> FakeProvider::remove_health_file(pools::Server server) {
  m_calls.push_back("remove_health_file " + server.name);
  co_await delay("remove_health_file");
  if (auto error = take_failure("remove_health_file", server.name)) co_return std::unexpected(*error);
  m_health_files.erase(server.name);
  if (m_on_health_file) m_on_health_file(server.name, false);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> FakeProvider::restore_health_file(pools::Server server) {
  m_calls.push_back("restore_health_file " + server.name);
  co_await delay("restore_health_file");
  if (auto error = take_failure("restore_health_file", server.name)) co_return std::unexpected(*error);
  m_health_files.insert(server.name);
  if (m_on_health_file) m_on_health_file(server.name, true);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> FakeProvider::freeze_scaling() {
  m_calls.push_back("freeze_scaling");
  co_await delay("freeze_scaling");
  if (auto error = take_failure("freeze_scaling", "")) co_return std::unexpected(*error);
  m_frozen = true;
  co_return Result<void>{};
}

asio::awaitable<Result<void>> FakeProvider::unfreeze_scaling() {
  m_calls.push_back("unfreeze_scaling");
  co_await delay("unfreeze_scaling");
  if (auto error = take_failure("unfreeze_scaling", "")) co_return std::unexpected(*error);
  m_frozen = false;
  co_return Result<void>{};
}

}  // namespace lbctl::test

namespace lbctl::test {

Result<void> FakeProvider::check() const {
  if (m_check_failure) {
    auto error = *m_check_failure;
    m_check_failure.reset();
    return std::unexpected(error);
  }
  return {};
}

}  // namespace lbctl::test
