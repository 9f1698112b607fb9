#include "lbctl/serve/shared_reads.hpp"

#include <optional>
#include <set>
#include <vector>

#include "core/async.hpp"

namespace lbctl::serve {

namespace asio = boost::asio;

struct SharedReads::Endpoint {
  std::shared_ptr<pools::RuntimeApi> real;
  std::set<std::string> backends;
  // The last exchange: each command's answer, or why it failed.
  std::map<std::string, std::string> answers;
  std::optional<Error> error;
  std::uint64_t exchanges = 0;

  std::vector<std::string> commands() const {
    std::vector<std::string> out{"show info"};
    for (const auto& backend : backends) {
      out.push_back("show stat " + backend + " 4 -1");
      out.push_back("show servers state " + backend);
    }
    return out;
  }
};

namespace {

// A service's view of one LB: its reads answered from the shared exchange.
class SharedApi final : public pools::RuntimeApi {
 public:
  explicit SharedApi(std::shared_ptr<SharedReads::Endpoint> endpoint) : m_endpoint(std::move(endpoint)) {}

  asio::awaitable<Result<std::vector<std::string>>> run(std::vector<std::string> commands) override {
    if (m_endpoint->error) co_return std::unexpected(*m_endpoint->error);
    std::vector<std::string> answers;
    for (const auto& command : commands) {
      const auto it = m_endpoint->answers.find(command);
      if (it == m_endpoint->answers.end()) break;
      answers.push_back(it->second);
    }
    if (answers.size() == commands.size()) co_return answers;
    // Not read yet (before the first exchange), or not a shared read.
    co_return co_await m_endpoint->real->run(std::move(commands));
  }
  std::string describe() const override { return m_endpoint->real->describe(); }

 private:
  std::shared_ptr<SharedReads::Endpoint> m_endpoint;
};

// One exchange, and a second try when the first was slow or could not
// connect: an LB is called down only when both fail.
// True when the LB answered.
asio::awaitable<bool> read_one(std::shared_ptr<SharedReads::Endpoint> endpoint, Clock& clock) {
  const auto commands = endpoint->commands();
  Result<std::vector<std::string>> answers;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ++endpoint->exchanges;
    answers = co_await endpoint->real->run(commands);
    if (answers || (answers.error().kind != ErrorKind::timeout && answers.error().kind != ErrorKind::unreachable)) break;
    if (attempt == 0) co_await clock.sleep_for(std::chrono::milliseconds(100));
  }
  endpoint->answers.clear();
  if (!answers) {
    endpoint->error = answers.error();
    co_return false;
  }
  endpoint->error.reset();
  for (std::size_t i = 0; i < commands.size() && i < answers->size(); ++i) endpoint->answers[commands[i]] = (*answers)[i];
  co_return true;
}

}  // namespace

std::shared_ptr<pools::RuntimeApi> SharedReads::share(std::shared_ptr<pools::RuntimeApi> real, const std::string& backend) {
  auto& endpoint = m_endpoints[real->describe()];
  if (!endpoint) {
    endpoint = std::make_shared<Endpoint>();
    endpoint->real = std::move(real);
  }
  endpoint->backends.insert(backend);
  return std::make_shared<SharedApi>(endpoint);
}

asio::awaitable<void> SharedReads::read_all() {
  std::vector<asio::awaitable<bool>> reads;
  for (auto& [key, endpoint] : m_endpoints) reads.push_back(read_one(endpoint, m_clock));
  (void)co_await when_all(std::move(reads));
}

std::map<std::string, std::uint64_t> SharedReads::exchanges() const {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [key, endpoint] : m_endpoints) out[key] = endpoint->exchanges;
  return out;
}

}  // namespace lbctl::serve
