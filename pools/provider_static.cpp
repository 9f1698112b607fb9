#include "pools/provider_check.hpp"
#include "pools/provider_static.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "pools/clone_output.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

StaticProvider::StaticProvider(StaticProviderOptions options, ProcessRunner& runner)
    : m_servers(std::move(options.servers)), m_commands(std::move(options.commands), runner) {}

asio::awaitable<Result<std::vector<Server>>> StaticProvider::clone(std::vector<std::string> names,
                                                                   std::optional<Server> /*template_server*/) {
  std::vector<Server> servers;
  for (const auto& name : names) {
    const auto it = std::find_if(m_servers.begin(), m_servers.end(), [&](const Server& s) { return s.name == name; });
    if (it == m_servers.end()) {
      co_return fail(ErrorKind::invalid, fmt::format("static provider: {} is not among provider.servers ({} listed)",
                                                     quote_for_message(name), m_servers.size()));
    }
    servers.push_back(*it);
  }
  co_return servers;
}

asio::awaitable<Result<void>> StaticProvider::terminate(Server server) {
  if (m_commands.options().terminate.empty()) co_return Result<void>{};
  co_return co_await m_commands.terminate(std::move(server));
}

asio::awaitable<Result<void>> StaticProvider::remove_health_file(Server server) {
  if (m_commands.options().remove_health_file.empty()) co_return Result<void>{};
  co_return co_await m_commands.remove_health_file(std::move(server));
}

asio::awaitable<Result<void>> StaticProvider::restore_health_file(Server server) {
  if (m_commands.options().restore_health_file.empty()) co_return Result<void>{};
  co_return co_await m_commands.restore_health_file(std::move(server));
}

asio::awaitable<Result<void>> StaticProvider::freeze_scaling() { co_return co_await m_commands.freeze_scaling(); }

asio::awaitable<Result<void>> StaticProvider::unfreeze_scaling() { co_return co_await m_commands.unfreeze_scaling(); }

Result<void> StaticProvider::check() const { return m_commands.check(); }

}  // namespace lbctl::pools
