#include "pools/provider_check.hpp"
#include "pools/provider_static.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <string_view>
#include <unordered_map>

#include "pools/clone_output.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

ExecProviderOptions optional_commands(ExecProviderOptions commands) {
  commands.clone.clear();
  commands.unset_does_nothing = true;
  return commands;
}

}  // namespace

StaticProvider::StaticProvider(StaticProviderOptions options, ProcessRunner& runner)
    : ExecProvider(optional_commands(std::move(options.commands)), runner), m_servers(std::move(options.servers)) {}

asio::awaitable<Result<std::vector<Server>>> StaticProvider::clone(std::vector<std::string> names,
                                                                   std::optional<Server> /*template_server*/) {
  std::unordered_map<std::string_view, const Server*> listed;
  for (const auto& server : m_servers) listed.emplace(server.name, &server);  // the first of a name, as a scan finds
  std::vector<Server> servers;
  for (const auto& name : names) {
    const auto it = listed.find(name);
    if (it == listed.end()) {
      co_return fail(ErrorKind::invalid, fmt::format("static provider: {} is not among provider.servers ({} listed)",
                                                     quote_for_message(name), m_servers.size()));
    }
    servers.push_back(*it->second);
  }
  co_return servers;
}

}  // namespace lbctl::pools
