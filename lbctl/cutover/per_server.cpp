// One provider action on many servers at once, every failure reported: a
// server that fails does not stop the others, and the error names each one.

#include <fmt/format.h>

#include "core/async.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<PerServer> on_each_server(std::vector<pools::Server> servers, std::string what,
                                                   ServerAction action) {
  std::vector<asio::awaitable<Result<void>>> tasks;
  tasks.reserve(servers.size());
  for (const auto& server : servers) tasks.push_back(action(server));
  auto results = co_await when_all(std::move(tasks));
  PerServer outcome;
  std::optional<Error> first;
  std::vector<std::string> failures;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) {
      outcome.done.push_back(servers[i].name);
      continue;
    }
    if (!first) first = results[i].error();
    failures.push_back(fmt::format("{} {}: {}", what, servers[i].name, results[i].error().message));
  }
  if (failures.empty()) co_return outcome;
  outcome.failed = fmt::format("{}", fmt::join(failures, "; "));
  outcome.kind = first->kind;
  co_return outcome;
}

}  // namespace lbctl
